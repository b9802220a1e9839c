<?php
// The seed's backend push, call for call: one JSON line to the internal text port, `ok` or
// `fail` back. Against edgepush the port is the shim (`npm start` runs it on 127.0.0.1:5678).
//
//   php examples/php/push.php [uid] [percent]
//
// EDGEPUSH_SHIM=tcp://host:port points it somewhere other than the seed's address.
$address = getenv('EDGEPUSH_SHIM') ?: 'tcp://127.0.0.1:5678';
$uid = $argv[1] ?? 'uid1';
$percent = $argv[2] ?? '88%';

// Connect to the internal push port (1 s connect timeout, as in the seed).
$client = stream_socket_client($address, $errno, $errmsg, 1);
if ($client === false) {
    fwrite(STDERR, "cannot connect to $address: $errmsg\n");
    exit(2);
}
// The data: `uid` says whose pages receive it; the browser gets this JSON text as is.
$data = array('uid' => $uid, 'percent' => $percent);
// The text protocol needs a newline at the end of each message.
fwrite($client, json_encode($data) . "\n");
// Read the push result: "ok\n" when a page of that uid is connected, "fail\n" otherwise.
$result = fread($client, 8192);
echo $result;
exit(trim($result) === 'ok' ? 0 : 1);
