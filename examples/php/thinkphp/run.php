<?php
// Runs one action of the seed's controllers from the command line, as ThinkPHP would for
// `POST /index/chat_room/bind` — so the seed's backend code can be tried against edgepush:
//
//   PUSH_SECRET=… EDGEPUSH_URL=http://127.0.0.1:8787 \
//     php examples/php/thinkphp/run.php chat_room/bind client_id=3.81273645 uid=u1 group=g1
//   php examples/php/thinkphp/run.php chat_room/send_message uid=u1
//   php examples/php/thinkphp/run.php events/chat client_id=3.81273645 'message={"type":"say","roomId":"g1","userId":"u1","userName":"Ann","content":"hi"}'
//
// Prints the action's return value as JSON and exits 0, or prints the exception and exits 1.
require __DIR__ . '/harness/think.php';
require __DIR__ . '/application/index/controller/ChatRoom.php';
require __DIR__ . '/application/index/controller/Events.php';

[$controller, $action] = explode('/', $argv[1] ?? '') + ['', ''];
foreach (array_slice($argv, 2) as $pair) {
    [$name, $value] = explode('=', $pair, 2) + ['', ''];
    think\Request::$params[$name] = $value;
}
// ThinkPHP's URL rules: chat_room → ChatRoom, send_message → sendMessage.
$camel = function ($name) {
    return str_replace('_', '', ucwords($name, '_'));
};
$class = 'app\\index\\controller\\' . $camel($controller);
$method = lcfirst($camel($action));
if (!class_exists($class) || !method_exists($class, $method)) {
    fwrite(STDERR, "usage: php run.php chat_room/bind|chat_room/send_message|events/chat name=value …\n");
    exit(2);
}
try {
    echo json_encode((new $class())->$method()), "\n";
} catch (Throwable $e) {
    fwrite(STDERR, get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(1);
}
