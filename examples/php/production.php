<?php
// The production calls from the command line (see edgepush.php):
//
//   php examples/php/production.php token <uid> [group,group…]   prints a client token (1 h)
//   php examples/php/production.php push <uid> '<json data>'      pushes, prints the answer
//
// Settings come from the environment (EDGEPUSH_URL, PUSH_SECRET, TOKEN_SECRET), falling back
// to ./.dev.vars for the secrets in local dev.
require __DIR__ . '/edgepush.php';

function setting(string $name, string $default = ''): string
{
    $value = getenv($name);
    if ($value !== false && $value !== '') {
        return $value;
    }
    foreach (is_file('.dev.vars') ? file('.dev.vars', FILE_IGNORE_NEW_LINES) : [] as $line) {
        if (preg_match('/^\s*' . $name . '\s*=\s*"?(.*?)"?\s*$/', $line, $m)) {
            return $m[1];
        }
    }
    if ($default === '') {
        fwrite(STDERR, "$name is not set: export it or add it to .dev.vars\n");
        exit(2);
    }
    return $default;
}

[$command, $uid] = [$argv[1] ?? '', $argv[2] ?? ''];
if ($command === 'token' && $uid !== '') {
    $groups = isset($argv[3]) ? explode(',', $argv[3]) : [];
    echo edgepush_token($uid, $groups, 3600, setting('TOKEN_SECRET')), "\n";
} elseif ($command === 'push' && $uid !== '') {
    $data = json_decode($argv[3] ?? 'null'); // objects stay objects, {} included
    $answer = edgepush_push(setting('EDGEPUSH_URL', 'http://127.0.0.1:8787'), setting('PUSH_SECRET'), ['uid' => $uid, 'data' => $data]);
    echo json_encode($answer), "\n";
} else {
    fwrite(STDERR, "usage: php production.php token <uid> [groups] | push <uid> '<json data>'\n");
    exit(2);
}
