<?php
// edgepush from a PHP backend in production: `POST /push` over HTTPS with curl, and client
// tokens (HS256 JWT) signed locally with hash_hmac, so no call is needed to log a user in.
// Needs PHP >= 7.4 with the curl extension.

/** base64url without padding, as JWT wants it. */
function edgepush_base64url(string $bytes): string
{
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

/**
 * The token a browser passes as `wss://…/ws?token=…`: `sub` is the uid, `exp` when it stops
 * working (checked at connect time), `groups` the groups it may join with `&group=NAME`.
 */
function edgepush_token(string $uid, array $groups, int $ttlSeconds, string $tokenSecret): string
{
    $header = edgepush_base64url(json_encode(['alg' => 'HS256', 'typ' => 'JWT']));
    $claims = ['sub' => $uid, 'exp' => time() + $ttlSeconds];
    if ($groups) {
        $claims['groups'] = array_values($groups);
    }
    $payload = edgepush_base64url(json_encode($claims));
    $signature = edgepush_base64url(hash_hmac('sha256', "$header.$payload", $tokenSecret, true));
    return "$header.$payload.$signature";
}

/**
 * `POST /push` with one message (or a list of them, a batch). Returns the decoded answer, e.g.
 * `['ok' => true, 'id' => '…', 'delivered' => 1, 'queued' => 1]`; throws when edgepush says no.
 * Give messages an `id` and a retry after a timeout is never delivered twice.
 */
function edgepush_push(string $baseUrl, string $pushSecret, array $message): array
{
    $ch = curl_init(rtrim($baseUrl, '/') . '/push');
    curl_setopt_array($ch, [
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => json_encode($message),
        CURLOPT_HTTPHEADER => ['Authorization: Bearer ' . $pushSecret, 'Content-Type: application/json'],
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => 3,
        CURLOPT_TIMEOUT => 10,
    ]);
    $body = curl_exec($ch);
    $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    $error = curl_error($ch);
    curl_close($ch);
    if ($body === false) {
        throw new RuntimeException("edgepush unreachable: $error");
    }
    $answer = json_decode($body, true);
    if ($status !== 200 || !is_array($answer)) {
        $why = $answer['error']['code'] ?? 'unexpected answer';
        throw new RuntimeException("edgepush answered $status $why: " . ($answer['error']['message'] ?? $body));
    }
    return $answer;
}
