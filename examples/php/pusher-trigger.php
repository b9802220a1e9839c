<?php
/**
 * Triggers a Pusher event on edgepush from plain PHP, signed exactly as pusher-php-server
 * (pusher/pusher-http-php 7, the library behind Laravel's `pusher` broadcaster) signs it:
 * Pusher::build_auth_query_params, array_implode, make_event and post(). No composer needed.
 * Laravel users need none of this: set the pusher connection's host/port/scheme (see the README).
 *
 *   PUSHER_APP_ID=… PUSHER_APP_KEY=… PUSHER_APP_SECRET=… \
 *     php examples/php/pusher-trigger.php orders OrderShipped '{"id":42}'
 *
 * PUSHER_HOST (127.0.0.1), PUSHER_PORT (8787) and PUSHER_SCHEME (http) point it at edgepush.
 * Prints the answer's JSON (`{}`); exits 1 with the status and body when edgepush refuses.
 */

/**
 * `auth_key`, `auth_timestamp`, `auth_version` merged with the request's own params, sorted by
 * key, signed as "METHOD\nPATH\nk=v&…" (values not escaped) with HMAC-SHA256 of the secret.
 */
function pusher_auth_query_params(string $key, string $secret, string $method, string $path, array $params): array
{
    $signed = array_merge(['auth_key' => $key, 'auth_timestamp' => time(), 'auth_version' => '1.0'], $params);
    ksort($signed);
    $pairs = [];
    foreach ($signed as $name => $value) {
        $pairs[] = $name . '=' . (is_array($value) ? implode(',', $value) : $value);
    }
    $signed['auth_signature'] = hash_hmac('sha256', "$method\n$path\n" . implode('&', $pairs), $secret, false);
    return $signed;
}

/**
 * POST /apps/<id>/events: `name`, `data` (JSON-encoded unless already a string you pass with
 * $alreadyEncoded), `channel` for one channel or `channels` for several, plus $params
 * (`socket_id` to exclude a connection, `info`). Returns the decoded answer.
 */
function pusher_trigger(array $config, $channels, string $event, $data, array $params = [], bool $alreadyEncoded = false): object
{
    $channels = array_values(is_string($channels) ? [$channels] : $channels);
    $event = ['name' => $event, 'data' => $alreadyEncoded ? $data : json_encode($data, JSON_THROW_ON_ERROR)];
    if (count($channels) === 1) {
        $event['channel'] = $channels[0];
    } else {
        $event['channels'] = $channels;
    }
    $body = json_encode(array_merge($event, $params), JSON_THROW_ON_ERROR);
    $path = '/apps/' . $config['app_id'] . '/events';
    $query = pusher_auth_query_params($config['key'], $config['secret'], 'POST', $path, ['body_md5' => md5($body)]);
    // Guzzle writes the query RFC 3986-escaped; edgepush decodes before it checks the signature.
    $url = $config['scheme'] . '://' . $config['host'] . ':' . $config['port'] . $path . '?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986);
    $curl = curl_init($url);
    curl_setopt_array($curl, [
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => $body,
        CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'X-Pusher-Library: edgepush-example'],
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_TIMEOUT => 10,
    ]);
    $answer = curl_exec($curl);
    $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    if ($answer === false) {
        throw new RuntimeException('edgepush did not answer: ' . curl_error($curl));
    }
    // pusher-php-server treats any status but 200 as an error (ApiErrorException).
    if ($status !== 200) {
        throw new RuntimeException("edgepush answered $status: $answer", $status);
    }
    return json_decode($answer, false, 512, JSON_THROW_ON_ERROR);
}

if (PHP_SAPI === 'cli' && realpath($argv[0] ?? '') === __FILE__) {
    if ($argc < 4) {
        fwrite(STDERR, "usage: php pusher-trigger.php <channel>[,<channel>…] <event> <json data> [socket_id]\n");
        exit(2);
    }
    $config = [
        'app_id' => getenv('PUSHER_APP_ID') ?: '',
        'key' => getenv('PUSHER_APP_KEY') ?: '',
        'secret' => getenv('PUSHER_APP_SECRET') ?: '',
        'host' => getenv('PUSHER_HOST') ?: '127.0.0.1',
        'port' => getenv('PUSHER_PORT') ?: '8787',
        'scheme' => getenv('PUSHER_SCHEME') ?: 'http',
    ];
    $params = isset($argv[4]) ? ['socket_id' => $argv[4]] : [];
    try {
        $result = pusher_trigger($config, explode(',', $argv[1]), $argv[2], json_decode($argv[3], true, 512, JSON_THROW_ON_ERROR), $params);
        echo json_encode($result), "\n";
    } catch (Throwable $e) {
        fwrite(STDERR, $e->getMessage() . "\n");
        exit(1);
    }
}
