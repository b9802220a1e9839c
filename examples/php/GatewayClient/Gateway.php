<?php
// GatewayClient's Gateway class for edgepush: the public static API of walkor/GatewayClient (same
// method names, parameters, defaults and return shapes) over HTTP(S) to edgepush's backend API,
// instead of TCP to GatewayWorker's Register and Gateway processes. Code written for GatewayClient
// runs after changing the require and two settings:
//
//   require_once '/path/to/examples/php/GatewayClient/Gateway.php';
//   Gateway::$edgepushUrl = 'https://push.example.com';   // was: Gateway::$registerAddress
//   Gateway::$secretKey = getenv('PUSH_SECRET');
//
// Plain PHP >= 7.4 with the curl extension; no composer. One curl handle is reused, so the
// requests of one PHP process share a kept-alive connection. Each method body shows the HTTP
// call it makes; the routes are in the README's HTTP API reference. Methods tied to GatewayWorker's
// processes (the "current client", setBusinessWorker) throw an EdgepushException saying why.

namespace GatewayClient;

require_once __DIR__ . '/EdgepushException.php';

class Gateway
{
    /** edgepush's base URL. */
    public static $edgepushUrl = 'http://127.0.0.1:8787';

    /** edgepush's PUSH_SECRET (GatewayClient: the gateways' secret key). */
    public static $secretKey = '';

    /** Seconds to wait for the TCP (and TLS) connection. */
    public static $connectTimeout = 3;

    /** Seconds one request may take in all (GatewayClient waits 5 s for gateways' answers). */
    public static $timeout = 5;

    /** Kept so existing assignments still work; edgepush has no Register service, so it is unused. */
    public static $registerAddress = '127.0.0.1:1236';

    /** Unused: the connection is always kept alive. */
    public static $persistentConnection = false;

    /** Unused: there is no Register address cache. */
    public static $addressesCacheDisable = false;

    /** Most messages in one `POST /push` batch. */
    private const BATCH_MAX = 1000;

    /** @var \CurlHandle|resource|null */
    private static $curl = null;

    // ---- pushes ----

    /** Broadcast to every connection, or to `$client_id_array` only; `$raw` is accepted and unused. */
    public static function sendToAll($message, $client_id_array = null, $exclude_client_id = null, $raw = false)
    {
        $exclude = $exclude_client_id ? array_map('strval', (array) $exclude_client_id) : [];
        if ($client_id_array === null) {
            self::push(['all' => true, 'data' => self::text($message)] + ($exclude ? ['exclude' => $exclude] : []));
            return;
        }
        if (!is_array($client_id_array)) {
            throw new \InvalidArgumentException('Gateway::sendToAll: $client_id_array must be an array of client_ids');
        }
        $data = self::text($message);
        $ids = array_values(array_diff(array_map('strval', $client_id_array), $exclude));
        foreach (array_chunk($ids, self::BATCH_MAX) as $chunk) {
            self::pushBatch(array_map(function ($id) use ($data) {
                return ['clientId' => $id, 'data' => $data];
            }, $chunk));
        }
    }

    /** Send to one connection. @return bool true once edgepush took it (as GatewayClient, also when offline) */
    public static function sendToClient($client_id, $message)
    {
        self::push(['clientId' => (string) $client_id, 'data' => self::text($message)]);
        return true;
    }

    /** Send to every connection bound to `$uid` (a uid or an array of uids). */
    public static function sendToUid($uid, $message)
    {
        $uids = array_map('strval', array_values((array) $uid));
        if (!$uids) {
            return;
        }
        $target = is_array($uid) ? ['uids' => $uids] : ['uid' => $uids[0]];
        self::push($target + ['data' => self::text($message)]);
    }

    /** Send to every connection in `$group` (a group or an array); false for an empty group, as GatewayClient. */
    public static function sendToGroup($group, $message, $exclude_client_id = null, $raw = false)
    {
        if (!self::isValidGroupId($group, __FUNCTION__)) {
            return false;
        }
        $groups = array_map('strval', array_values((array) $group));
        $target = is_array($group) ? ['groups' => $groups] : ['group' => $groups[0]];
        $exclude = $exclude_client_id ? ['exclude' => array_map('strval', (array) $exclude_client_id)] : [];
        self::push($target + ['data' => self::text($message)] + $exclude);
    }

    // ---- one connection ----

    /** @return int 1 when the client_id is connected, else 0 */
    public static function isOnline($client_id)
    {
        return (int) self::client($client_id)['online'];
    }

    /** @return string|null the uid bound to the client_id; null when unbound or offline */
    public static function getUidByClientId($client_id)
    {
        return self::client($client_id)['uid'] ?? null;
    }

    /** @return array|null the connection's session ([] when none); null when it is offline */
    public static function getSession($client_id)
    {
        $client = self::client($client_id);
        return $client['online'] ? ($client['session'] ?? []) : null;
    }

    /** Bind the connection to `$uid` (a connection has at most one uid). */
    public static function bindUid($client_id, $uid)
    {
        self::write('POST', self::path('clients', $client_id, 'uid'), ['uid' => (string) $uid]);
    }

    /**
     * Unbind the connection from its uid. As in GatewayWorker, whose gateway ignores `$uid`, the
     * connection loses whatever uid it holds, even when that is not `$uid`.
     */
    public static function unbindUid($client_id, $uid)
    {
        self::write('DELETE', self::path('clients', $client_id, 'uid'));
    }

    /** Add the connection to `$group`. */
    public static function joinGroup($client_id, $group)
    {
        self::write('POST', self::path('clients', $client_id, 'groups'), ['group' => (string) $group]);
    }

    /** Remove the connection from `$group`. */
    public static function leaveGroup($client_id, $group)
    {
        self::write('DELETE', self::path('clients', $client_id, 'groups', $group));
    }

    /** Replace the connection's session (a JSON object of at most 8 KiB on edgepush). */
    public static function setSession($client_id, array $session)
    {
        self::write('PUT', self::path('clients', $client_id, 'session'), ['session' => (object) $session]);
    }

    /** Merge `$session` into the connection's session. */
    public static function updateSession($client_id, array $session)
    {
        self::write('PATCH', self::path('clients', $client_id, 'session'), ['session' => (object) $session]);
    }

    /** setSession from PHP serialize() text, as GatewayWorker's framework calls it. @return bool false when offline */
    public static function setSocketSession($client_id, $session_str)
    {
        $session = $session_str === '' ? [] : @unserialize((string) $session_str, ['allowed_classes' => false]);
        if (!is_array($session)) {
            throw new \InvalidArgumentException('Gateway::setSocketSession: $session_str is not a serialize()d array');
        }
        return self::write('PUT', self::path('clients', $client_id, 'session'), ['session' => (object) $session]);
    }

    /** Close the connection, sending `$message` first. @return bool false when it was not connected */
    public static function closeClient($client_id, $message = null)
    {
        $body = $message === null ? new \stdClass() : ['message' => self::text($message)];
        return self::write('POST', self::path('clients', $client_id, 'close'), $body);
    }

    /** Close at once: a Worker always closes with a close frame, so this is closeClient without a message. */
    public static function destoryClient($client_id)
    {
        return self::closeClient($client_id);
    }

    // ---- uids ----

    /** @return int 1 when a connection is bound to `$uid`, else 0 */
    public static function isUidOnline($uid)
    {
        return (int) self::request('GET', self::path('online', $uid))['online'];
    }

    /** @return array uid => 0|1 */
    public static function isUidsOnline($uids)
    {
        return self::each((array) $uids, [self::class, 'isUidOnline']);
    }

    /** @return array the client_ids bound to `$uid`, a list */
    public static function getClientIdByUid($uid)
    {
        return array_values(self::request('GET', self::path('uids', $uid, 'clients'))['client_ids']);
    }

    /** @return array uid => list of client_ids */
    public static function batchGetClientIdByUid($uids)
    {
        return self::each((array) $uids, [self::class, 'getClientIdByUid']);
    }

    /** @return array uid => uid, every bound uid of the deployment */
    public static function getAllUidList()
    {
        return self::keyed(self::pages('/uids')['uids'] ?? []);
    }

    /** @return int the number of online uids */
    public static function getAllUidCount()
    {
        return (int) self::request('GET', '/stats')['uids'];
    }

    // ---- groups ----

    /** @return array client_id => client_id for `$group` (a group or an array of groups) */
    public static function getClientIdListByGroup($group)
    {
        if (!self::isValidGroupId($group, __FUNCTION__)) {
            return [];
        }
        $ids = [];
        foreach ((array) $group as $one) {
            $ids = array_merge($ids, self::groupClients($one)['client_ids'] ?? []);
        }
        return self::keyed($ids);
    }

    /** @return int connections in `$group`; every connection of the deployment when `$group` is '' */
    public static function getClientIdCountByGroup($group = '')
    {
        if ($group === '' || $group === null) {
            return (int) self::request('GET', '/stats')['connections'];
        }
        return count(self::groupClients($group)['client_ids'] ?? []);
    }

    /** Alias of getClientIdCountByGroup. @return int */
    public static function getClientCountByGroup($group = '')
    {
        return self::getClientIdCountByGroup($group);
    }

    /** @return array group => number of connections */
    public static function batchGetClientIdCountByGroup(array $groups): array
    {
        return self::each($groups, [self::class, 'getClientIdCountByGroup']);
    }

    /** @return array client_id => session array of `$group`'s connections */
    public static function getClientSessionsByGroup($group)
    {
        return self::isValidGroupId($group, __FUNCTION__) ? self::sessionsOf(self::groupClients($group)) : [];
    }

    /** @return array uid => uid bound to connections in `$group` (a group or an array of groups) */
    public static function getUidListByGroup($group)
    {
        if (!self::isValidGroupId($group, __FUNCTION__)) {
            return [];
        }
        $uids = [];
        foreach ((array) $group as $one) {
            $uids = array_merge($uids, self::request('GET', self::path('groups', $one))['uids'] ?? []);
        }
        return self::keyed($uids);
    }

    /** @return int uids in `$group` */
    public static function getUidCountByGroup($group)
    {
        return self::isValidGroupId($group, __FUNCTION__) ? count(self::getUidListByGroup($group)) : 0;
    }

    /** Remove every connection from `$group`; false for an empty group, as GatewayClient. */
    public static function ungroup($group)
    {
        if (!self::isValidGroupId($group, __FUNCTION__)) {
            return false;
        }
        self::request('DELETE', self::path('groups', $group));
    }

    /** @return array group => group, every group with connections */
    public static function getAllGroupIdList()
    {
        return self::keyed(self::pages('/groups')['groups'] ?? []);
    }

    /** @return array group => [uid => uid], groups with at least one bound uid */
    public static function getAllGroupUidList()
    {
        return array_filter(self::each(self::getAllGroupIdList(), [self::class, 'getUidListByGroup']));
    }

    /** @return array group => number of uids */
    public static function getAllGroupUidCount()
    {
        return array_map('count', self::getAllGroupUidList());
    }

    /** @return array group => [client_id => client_id] */
    public static function getAllGroupClientIdList()
    {
        return array_filter(self::each(self::getAllGroupIdList(), [self::class, 'getClientIdListByGroup']));
    }

    /** @return array group => number of connections */
    public static function getAllGroupClientIdCount()
    {
        return array_map('count', self::getAllGroupClientIdList());
    }

    // ---- the whole deployment ----

    /** @return array client_id => client_id, every /gateway connection */
    public static function getAllClientIdList()
    {
        return self::keyed(self::pages('/clients')['client_ids'] ?? []);
    }

    /** @return int every connection of the deployment */
    public static function getAllClientIdCount()
    {
        return self::getClientIdCountByGroup('');
    }

    /** Alias of getAllClientIdCount. @return int */
    public static function getAllClientCount()
    {
        return self::getAllClientIdCount();
    }

    /** @return array client_id => session array, of every connection or of `$group`'s */
    public static function getAllClientSessions($group = '')
    {
        return self::sessionsOf($group ? self::groupClients($group) : self::pages('/clients'));
    }

    /** Deprecated in GatewayClient: use getAllClientSessions. */
    public static function getAllClientInfo($group = '')
    {
        error_log('Gateway::getAllClientInfo is deprecated, use Gateway::getAllClientSessions');
        return self::getAllClientSessions($group);
    }

    /** Deprecated in GatewayClient: use getClientSessionsByGroup. */
    public static function getClientInfoByGroup($group)
    {
        error_log('Gateway::getClientInfoByGroup is deprecated, use Gateway::getClientSessionsByGroup');
        return self::getAllClientSessions($group);
    }

    // ---- GatewayWorker's process model: no meaning on edgepush ----

    /** Not supported: there is no current client outside GatewayWorker's Events callbacks. */
    public static function destoryCurrentClient()
    {
        throw EdgepushException::unsupported(__FUNCTION__, 'there is no current client outside GatewayWorker\'s Events; call destoryClient($client_id)');
    }

    /** Not supported (GatewayWorker only): there is no current client outside Events. */
    public static function sendToCurrentClient($message, $raw = false)
    {
        throw EdgepushException::unsupported(__FUNCTION__, 'there is no current client outside GatewayWorker\'s Events; call sendToClient($client_id, $message)');
    }

    /** Not supported (GatewayWorker only): there is no current client outside Events. */
    public static function closeCurrentClient($message = null)
    {
        throw EdgepushException::unsupported(__FUNCTION__, 'there is no current client outside GatewayWorker\'s Events; call closeClient($client_id)');
    }

    /** Not supported: edgepush runs no BusinessWorker, Register or Gateway processes. */
    public static function setBusinessWorker($business_worker_instance)
    {
        throw EdgepushException::unsupported(__FUNCTION__, 'edgepush runs no BusinessWorker, Register or Gateway processes');
    }

    // ---- HTTP ----

    /** One call to edgepush; the decoded JSON answer, or an EdgepushException. */
    private static function request(string $verb, string $path, $body = null): array
    {
        if ((string) static::$secretKey === '') {
            throw new EdgepushException('Gateway::$secretKey is empty: set it to edgepush\'s PUSH_SECRET', 0, 'misconfigured');
        }
        $headers = ['Authorization: Bearer ' . static::$secretKey, 'Expect:'];
        $options = [
            CURLOPT_URL => rtrim(static::$edgepushUrl, '/') . $path,
            CURLOPT_CUSTOMREQUEST => $verb,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT_MS => (int) (static::$connectTimeout * 1000),
            CURLOPT_TIMEOUT_MS => (int) (static::$timeout * 1000),
        ];
        if ($body !== null) {
            $options[CURLOPT_POSTFIELDS] = self::json($body);
            $headers[] = 'Content-Type: application/json';
        }
        $curl = self::$curl ?: (self::$curl = curl_init());
        // curl_reset keeps the live connection: only the options of the previous call go.
        curl_reset($curl);
        curl_setopt_array($curl, $options + [CURLOPT_HTTPHEADER => $headers]);
        $text = curl_exec($curl);
        if ($text === false) {
            throw new EdgepushException("edgepush $verb $path: unreachable at " . static::$edgepushUrl . ': ' . curl_error($curl), 0, 'unreachable');
        }
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        $answer = json_decode($text, true);
        if ($status < 200 || $status > 299) {
            throw EdgepushException::fromAnswer("$verb $path", $status, $answer, $text);
        }
        if (!is_array($answer)) {
            throw new EdgepushException("edgepush $verb $path answered $status with no JSON object: " . substr($text, 0, 200), $status, 'bad_answer');
        }
        return $answer;
    }

    /**
     * A write to one connection. GatewayWorker silently ignores writes to connections it does not
     * hold (a page closed mid-bind must not fail the backend), so "not connected" is false, not an error.
     */
    private static function write(string $verb, string $path, $body = null): bool
    {
        try {
            self::request($verb, $path, $body);
            return true;
        } catch (EdgepushException $e) {
            if (self::isNotConnected($e)) {
                return false;
            }
            throw $e;
        }
    }

    /** A 404 about the client_id only: any other 404 (no such route) stays an error. */
    private static function isNotConnected(EdgepushException $e): bool
    {
        return $e->getStatus() === 404 && ($e->getErrorCode() === 'not_connected'
            || ($e->getErrorCode() === 'not_found' && strpos($e->getMessage(), 'is not connected') !== false));
    }

    private static function push(array $message): array
    {
        return self::request('POST', '/push', $message);
    }

    /** A batch push; an item edgepush refused fails the call (a push to an offline client_id is not refused). */
    private static function pushBatch(array $messages): void
    {
        foreach (self::request('POST', '/push', $messages)['results'] ?? [] as $i => $result) {
            if (isset($result['error'])) {
                $error = $result['error'];
                throw new EdgepushException("edgepush POST /push item $i ({$messages[$i]['clientId']}): {$error['code']}: {$error['message']}", 200, (string) $error['code']);
            }
        }
    }

    /** `GET /clients/:id`: {client_id, online, uid, groups, session}. */
    private static function client($client_id): array
    {
        return self::request('GET', self::path('clients', $client_id));
    }

    /** `GET /groups/:group/clients`: {group, client_ids, sessions}. */
    private static function groupClients($group): array
    {
        return self::pages(self::path('groups', $group, 'clients'));
    }

    /** GET `$path`, following `cursor` until null; lists of the pages appended, maps merged. */
    private static function pages(string $path): array
    {
        $all = [];
        $cursor = null;
        do {
            $query = $cursor === null ? '' : '?cursor=' . rawurlencode($cursor);
            $answer = self::request('GET', $path . $query);
            foreach ($answer as $key => $value) {
                $all[$key] = is_array($value) && is_array($all[$key] ?? null) ? array_merge($all[$key], $value) : $value;
            }
            $cursor = $answer['cursor'] ?? null;
        } while ($cursor !== null && $cursor !== '');
        return $all;
    }

    /** client_id => session ([] for none), from an answer with client_ids and sessions. */
    private static function sessionsOf(array $answer): array
    {
        $sessions = [];
        foreach ($answer['client_ids'] ?? [] as $id) {
            $sessions[$id] = $answer['sessions'][$id] ?? [];
        }
        return $sessions;
    }

    /** `$key => $fn($key)` for each key, as GatewayClient's batch methods answer. */
    private static function each(array $keys, callable $fn): array
    {
        $out = [];
        foreach ($keys as $key) {
            $out[$key] = $fn($key);
        }
        return $out;
    }

    /** value => value, GatewayClient's shape for id lists. */
    private static function keyed(array $values): array
    {
        return $values ? array_combine($values, $values) : [];
    }

    private static function path(...$parts): string
    {
        return '/' . implode('/', array_map(function ($part) {
            return rawurlencode((string) $part);
        }, $parts));
    }

    /** GatewayClient sends strings (and numbers); arrays must be json_encode()d first, as the seeds do. */
    private static function text($message): string
    {
        if (is_array($message) || (is_object($message) && !method_exists($message, '__toString'))) {
            throw new \InvalidArgumentException('Gateway: $message must be a string; json_encode() arrays first');
        }
        return (string) $message;
    }

    private static function json($body): string
    {
        try {
            return json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new \InvalidArgumentException('Gateway: cannot send as JSON (' . $e->getMessage() . '); messages must be UTF-8', 0, $e);
        }
    }

    /** GatewayClient refuses empty groups (0, '0', '', null, []) with false or [] instead of a call. */
    private static function isValidGroupId($group, string $method): bool
    {
        if (empty($group)) {
            error_log("Gateway::$method: group " . var_export($group, true) . ' is empty');
            return false;
        }
        return true;
    }
}
