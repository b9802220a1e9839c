<?php
// Test driver for the GatewayClient drop-in: runs a list of Gateway calls in one PHP process (so
// they share its kept-alive connection) and prints one JSON line per call: the return value with
// its PHP type, or the exception it threw.
//
//   php test/php/gatewayclient-calls.php '{"settings":{"edgepushUrl":"…","secretKey":"…"},"calls":[["bindUid","3.1","u1"]]}'
//
// Arguments too odd for JSON: {"serialize": value} is passed as serialize(value) (setSocketSession),
// {"repeat": [text, n]} as str_repeat(text, n) (bodies over argv's size limit).
require __DIR__ . '/../../examples/php/GatewayClient/Gateway.php';

use GatewayClient\EdgepushException;
use GatewayClient\Gateway;

$input = json_decode($argv[1] ?? '', true, 512, JSON_THROW_ON_ERROR);
foreach ($input['settings'] ?? [] as $name => $value) {
    Gateway::$$name = $value;
}

function describe_result($value): array
{
    $out = ['type' => get_debug_type($value), 'value' => $value];
    if (is_array($value)) {
        $out['list'] = array_is_list($value);
    }
    return $out;
}

function describe_exception(Throwable $e): array
{
    $out = ['class' => get_class($e), 'message' => $e->getMessage()];
    if ($e instanceof EdgepushException) {
        $out += ['status' => $e->getStatus(), 'code' => $e->getErrorCode(), 'getCode' => $e->getCode()];
    }
    return $out;
}

foreach ($input['calls'] as $call) {
    $method = array_shift($call);
    $args = array_map(function ($arg) {
        if (is_array($arg) && array_key_exists('serialize', $arg)) {
            return serialize($arg['serialize']);
        }
        return is_array($arg) && array_key_exists('repeat', $arg) ? str_repeat(...$arg['repeat']) : $arg;
    }, $call);
    try {
        $line = ['result' => describe_result(Gateway::$method(...$args))];
    } catch (Throwable $e) {
        $line = ['exception' => describe_exception($e)];
    }
    echo json_encode($line, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}
