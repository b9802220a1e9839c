<?php
// The seed's ThinkPHP app in PHP's built-in web server, so its page and its bind()/sendMessage()
// controllers can be tried in a browser against edgepush:
//
//   PUSH_SECRET=… EDGEPUSH_URL=http://127.0.0.1:8787 php -S 127.0.0.1:8000 examples/php/thinkphp/public/router.php
//   open http://127.0.0.1:8000/?uid=u1&group=g1   (the "login": this session's uid and group)
//   then http://127.0.0.1:8000/index/chat_room/send_message in the same browser: the page alerts it
//
// Routes are ThinkPHP's (index/chat_room/bind → ChatRoom::bind). The page is served as is, except
// that its ws://127.0.0.1:8787 becomes EDGEPUSH_URL's host when that is set elsewhere.
require __DIR__ . '/../harness/think.php';
require __DIR__ . '/../application/index/controller/ChatRoom.php';
require __DIR__ . '/../application/index/controller/Events.php';

// The login lives in a PHP session; the temp dir exists wherever php-cli runs.
session_save_path(sys_get_temp_dir());
session_start();
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

if ($path === '/' || $path === '/index.html') {
    // Stand-in for the seed app's login: the session's user and group.
    $_SESSION['uid'] = $_GET['uid'] ?? ($_SESSION['uid'] ?? 'u1');
    $_SESSION['group'] = $_GET['group'] ?? ($_SESSION['group'] ?? 'g1');
    $ws = preg_replace('#^http#', 'ws', rtrim(getenv('EDGEPUSH_URL') ?: 'http://127.0.0.1:8787', '/'));
    header('Content-Type: text/html; charset=utf-8');
    echo str_replace('ws://127.0.0.1:8787', $ws, file_get_contents(__DIR__ . '/index.html'));
    return true;
}

$routes = [
    '/index/chat_room/bind' => ['app\index\controller\ChatRoom', 'bind'],
    '/index/chat_room/send_message' => ['app\index\controller\ChatRoom', 'sendMessage'],
    '/index/events/chat' => ['app\index\controller\Events', 'chat'],
];
if (!isset($routes[$path])) {
    http_response_code(404);
    echo "no route $path\n";
    return true;
}
think\Request::$params = $_POST + $_GET + ['uid' => $_SESSION['uid'] ?? null, 'group' => $_SESSION['group'] ?? null];
[$class, $method] = $routes[$path];
header('Content-Type: application/json');
try {
    echo json_encode((new $class())->$method());
} catch (Throwable $e) {
    http_response_code(500);
    echo json_encode(['error' => get_class($e) . ': ' . $e->getMessage()]);
}
return true;
