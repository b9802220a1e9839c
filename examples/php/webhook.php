<?php
// edgepush's webhooks in a PHP backend, the GatewayWorker way: each delivery is verified
// (X-Edgepush-Signature over "<timestamp>.<body>", timestamp at most 5 minutes old), then its
// events call Events::onConnect / onMessage / onClose, whose code is GatewayWorker's demo and
// answers through the GatewayClient drop-in (examples/php/GatewayClient). Plain PHP >= 7.4.
//
//   As an endpoint:  WEBHOOK_SECRET=… PUSH_SECRET=… EDGEPUSH_URL=http://127.0.0.1:8787 \
//                      php -S 127.0.0.1:8000 examples/php/webhook.php
//                    and in edgepush: WEBHOOK_URL=http://127.0.0.1:8000/  WEBHOOK_SECRET=…
//   From the shell:  php examples/php/webhook.php verify <timestamp> <signature> < body.json
//                    (prints the events, one JSON line each; exit 1 when the check fails)
// In a framework, call edgepush_verify_webhook() in your controller and dispatch the same way.

use GatewayClient\Gateway;

require_once __DIR__ . '/GatewayClient/Gateway.php';

const EDGEPUSH_WEBHOOK_TOLERANCE_MS = 300000;

class EdgepushWebhookError extends RuntimeException
{
}

/**
 * The delivery's decoded body (`['time_ms' => …, 'events' => […]]`) once its signature and age
 * check out; throws EdgepushWebhookError (code 401: not from edgepush or replayed, 400: bad body).
 */
function edgepush_verify_webhook(string $secret, string $body, ?string $timestamp, ?string $signature, ?int $nowMs = null): array
{
    if ($timestamp === null || $signature === null || !ctype_digit($timestamp)) {
        throw new EdgepushWebhookError('missing X-Edgepush-Timestamp or X-Edgepush-Signature', 401);
    }
    $expected = 'sha256=' . hash_hmac('sha256', $timestamp . '.' . $body, $secret);
    if (!hash_equals($expected, $signature)) {
        throw new EdgepushWebhookError('bad signature', 401);
    }
    $nowMs = $nowMs ?? (int) floor(microtime(true) * 1000);
    if (abs($nowMs - (int) $timestamp) > EDGEPUSH_WEBHOOK_TOLERANCE_MS) {
        throw new EdgepushWebhookError('stale timestamp: a replay, or a clock far off', 401);
    }
    $delivery = json_decode($body, true);
    if (!is_array($delivery) || !isset($delivery['events']) || !is_array($delivery['events'])) {
        throw new EdgepushWebhookError('the body is not a delivery', 400);
    }
    return $delivery;
}

/**
 * Runs `$handle` for an event id not handled before. Events come at least once: a delivery whose
 * answer was lost comes again with the same ids. The id is remembered only once `$handle`
 * returned, so an event whose handler failed runs again on the retry. Keep the ids in your
 * database in production; this example keeps the last 10 000 in a locked file.
 */
function edgepush_once(string $id, callable $handle): void
{
    $file = getenv('WEBHOOK_SEEN_FILE') ?: sys_get_temp_dir() . '/edgepush-webhook-ids';
    $lock = fopen($file, 'c+');
    flock($lock, LOCK_EX);
    try {
        $ids = array_filter(explode("\n", stream_get_contents($lock)));
        if (in_array($id, $ids, true)) {
            return;
        }
        $handle();
        $ids[] = $id;
        ftruncate($lock, 0);
        rewind($lock);
        fwrite($lock, implode("\n", array_slice($ids, -10000)) . "\n");
    } finally {
        flock($lock, LOCK_UN);
        fclose($lock);
    }
}

/** One event to its handler, as GatewayWorker's BusinessWorker would call it. */
function edgepush_dispatch(array $event): void
{
    switch ($event['name']) {
        case 'connection_opened':
            Events::onConnect($event['client_id']);
            break;
        case 'client_message':
            // GatewayWorker hands onMessage the text the client sent.
            $data = $event['data'];
            Events::onMessage($event['client_id'], is_string($data) ? $data : json_encode($data));
            break;
        case 'connection_closed':
            Events::onClose($event['client_id']);
            break;
        default:
            // uid_online / uid_offline, group_occupied / group_vacated, member_added / member_removed
            break;
    }
}

// ---- GatewayWorker's demo Events, unchanged but for the Gateway class it calls ----

class Events
{
    public static function onConnect($client_id)
    {
        Gateway::sendToClient($client_id, "Hello $client_id");
    }

    public static function onMessage($client_id, $message)
    {
        Gateway::sendToAll("$client_id said $message");
    }

    public static function onClose($client_id)
    {
        Gateway::sendToAll("$client_id logout");
    }
}

// ---- entry points ----

Gateway::$edgepushUrl = getenv('EDGEPUSH_URL') ?: 'http://127.0.0.1:8787';
Gateway::$secretKey = getenv('PUSH_SECRET') ?: '';

if (PHP_SAPI === 'cli' && realpath($argv[0] ?? '') === __FILE__) {
    if (($argv[1] ?? '') !== 'verify' || count($argv) !== 4) {
        fwrite(STDERR, "usage: php webhook.php verify <timestamp> <signature> < body.json\n");
        exit(2);
    }
    try {
        $delivery = edgepush_verify_webhook((string) getenv('WEBHOOK_SECRET'), stream_get_contents(STDIN), $argv[2], $argv[3]);
    } catch (EdgepushWebhookError $e) {
        fwrite(STDERR, 'refused: ' . $e->getMessage() . "\n");
        exit(1);
    }
    foreach ($delivery['events'] as $event) {
        echo json_encode($event), "\n";
    }
} elseif (PHP_SAPI !== 'cli' && ($_SERVER['REQUEST_METHOD'] ?? '') === 'POST') {
    $body = file_get_contents('php://input');
    if (!isset($_SERVER['HTTP_X_EDGEPUSH_SIGNATURE']) && isset($_SERVER['HTTP_X_PUSHER_KEY'])) {
        // Pusher's format (PUSHER_APP_* set, no PUSHER_WEBHOOK_URL): verify it with your Pusher library.
        http_response_code(204);
        return;
    }
    try {
        $delivery = edgepush_verify_webhook((string) getenv('WEBHOOK_SECRET'), $body,
            $_SERVER['HTTP_X_EDGEPUSH_TIMESTAMP'] ?? null, $_SERVER['HTTP_X_EDGEPUSH_SIGNATURE'] ?? null);
        foreach ($delivery['events'] as $event) {
            edgepush_once($event['id'], function () use ($event) {
                edgepush_dispatch($event);
            });
        }
        http_response_code(204);
    } catch (EdgepushWebhookError $e) {
        http_response_code($e->getCode());
        echo $e->getMessage(), "\n";
    }
    // Any other failure (edgepush unreachable …) answers 500: edgepush delivers the events again.
}
