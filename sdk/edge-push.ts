import { EdgePushError } from "./errors";
import { hmacKey, signHs256, type HmacKey } from "./jwt";
import { call, type TransportOptions } from "./transport";
import type {
  BatchItemResult,
  ClientToken,
  ClientTokenClaims,
  GroupPresence,
  GrantResult,
  GroupSendOptions,
  GroupPage,
  KickResult,
  ListOptions,
  Presence,
  PushMessage,
  PushResult,
  RevokeResult,
  SendOptions,
  Stats,
  UidPage,
} from "./types";

/** How to reach and authenticate to an edgepush deployment. */
export interface EdgePushOptions {
  /** Base URL, e.g. `https://push.example.com` or `http://127.0.0.1:8787`. */
  url: string;
  /** The deployment's `PUSH_SECRET`. */
  secret: string;
  /** The deployment's `TOKEN_SECRET`: lets `signClientToken` sign locally instead of calling `POST /token`. */
  tokenSecret?: string;
  /** Retries after a network error, timeout or 5xx (each with the same message id). Default 3. */
  retries?: number;
  /** First backoff in ms; doubles each retry, with jitter. Default 200. */
  retryDelayMs?: number;
  /** Per-attempt timeout in ms. Default 10000. */
  timeoutMs?: number;
  /** A fetch to use instead of the global one, e.g. a service binding's `env.EDGEPUSH.fetch.bind(env.EDGEPUSH)`. */
  fetch?: typeof fetch;
  /**
   * Give each message without an `id` a generated one (default true), so a retry can never deliver
   * it twice. Each id costs the room one de-duplication row in SQLite; with `false`, a message
   * without an id costs none but is sent once and never retried.
   */
  autoId?: boolean;
}

const DEFAULT_TOKEN_TTL_S = 3600;

/**
 * Server SDK for edgepush: push to uids, groups, everyone or one connection; presence; grants,
 * kicks and client tokens. Only `fetch` and WebCrypto: runs in Node 20+, Workers, Deno and Bun.
 * @example
 * const push = new EdgePush({ url: "https://push.example.com", secret: env.PUSH_SECRET });
 * await push.toUid("u1", { text: "hello" }); // { ok: true, id, delivered, queued }
 */
export class EdgePush {
  private readonly transport: TransportOptions;
  private readonly tokenKey?: Promise<HmacKey>;
  private readonly autoId: boolean;

  constructor(options: EdgePushOptions) {
    if (!options?.url || !/^https?:\/\/[^/]/.test(options.url)) {
      throw new TypeError(`EdgePush: url must be http(s)://host[:port], got ${JSON.stringify(options?.url)}`);
    }
    if (!options.secret) throw new TypeError("EdgePush: secret is required (the deployment's PUSH_SECRET)");
    this.transport = {
      url: options.url.replace(/\/+$/, ""),
      secret: options.secret,
      retries: options.retries ?? 3,
      retryDelayMs: options.retryDelayMs ?? 200,
      timeoutMs: options.timeoutMs ?? 10_000,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    };
    if (options.tokenSecret) this.tokenKey = hmacKey(options.tokenSecret);
    this.autoId = options.autoId ?? true;
  }

  /** Sends one message, whatever its target. */
  push(message: PushMessage): Promise<PushResult> {
    const [sent] = this.withIds([message]);
    return call<PushResult>(this.pushTransport([sent]), "POST", "/push", sent);
  }

  /** To every connection of `uid`; queued for replay when it is offline. */
  toUid(uid: string, data: unknown, options: SendOptions = {}): Promise<PushResult> {
    return this.push({ uid, data, ...options });
  }

  /** To every connection of each uid in `uids` (one id for all of them). */
  toUids(uids: string[], data: unknown, options: SendOptions = {}): Promise<PushResult> {
    return this.push({ uids, data, ...options });
  }

  /** To every connection in `group`, except the clientIds in `options.exclude`. */
  toGroup(group: string, data: unknown, options: GroupSendOptions = {}): Promise<PushResult> {
    return this.push({ group, data, ...options });
  }

  /** To every connection in each of `groups`. */
  toGroups(groups: string[], data: unknown, options: GroupSendOptions = {}): Promise<PushResult> {
    return this.push({ groups, data, ...options });
  }

  /** To every connection of the deployment. */
  toAll(data: unknown, options: SendOptions = {}): Promise<PushResult> {
    return this.push({ all: true, data, ...options });
  }

  /** To one connection, by the clientId from its `init` frame; live only. */
  toClient(clientId: string, data: unknown, options: SendOptions = {}): Promise<PushResult> {
    return this.push({ clientId, data, ...options });
  }

  /**
   * Up to 1000 messages in one call. A refused message does not throw: its result is
   * `{ ok: false, error }` and the others still go out. Throws only when the call itself fails.
   */
  async batch(messages: PushMessage[]): Promise<BatchItemResult[]> {
    const sent = this.withIds(messages);
    const { results } = await call<{ results: BatchItemResult[] }>(this.pushTransport(sent), "POST", "/push", sent);
    return results;
  }

  /** True when `uid` has at least one live connection. */
  async isOnline(uid: string): Promise<boolean> {
    return (await this.online(uid)).online;
  }

  /** Ids are given once, before the first attempt, so every retry repeats the same ones. */
  private withIds(messages: PushMessage[]): PushMessage[] {
    if (!this.autoId) return messages;
    return messages.map((m) => (m.id === undefined ? { ...m, id: crypto.randomUUID() } : m));
  }

  /** A repeat of a message without an id could deliver it twice: such a call is made once. */
  private pushTransport(messages: PushMessage[]): TransportOptions {
    return messages.every((m) => m.id !== undefined) ? this.transport : { ...this.transport, retries: 0 };
  }

  /** Connections of `uid` in its own room. */
  online(uid: string): Promise<Presence> {
    return call<Presence>(this.transport, "GET", `/online/${encodeURIComponent(uid)}`);
  }

  /** Connections and uids in `group`. */
  group(group: string): Promise<GroupPresence> {
    return call<GroupPresence>(this.transport, "GET", `/groups/${encodeURIComponent(group)}`);
  }

  /** Connections, rooms, uids and groups across the deployment. */
  stats(): Promise<Stats> {
    return call<Stats>(this.transport, "GET", "/stats");
  }

  /** Online uids in name order, a page at a time: pass the answer's `cursor` for the next one. */
  listUids(options: ListOptions = {}): Promise<UidPage> {
    return call<UidPage>(this.transport, "GET", `/uids${pageQuery(options)}`);
  }

  /** Groups with live sockets in name order, paged like `listUids`. */
  listGroups(options: ListOptions = {}): Promise<GroupPage> {
    return call<GroupPage>(this.transport, "GET", `/groups${pageQuery(options)}`);
  }

  /** Lets `uid` join `group`: its live clients receive a `join` frame with a token that allows it. */
  grant(group: string, uid: string): Promise<GrantResult> {
    return call<GrantResult>(this.transport, "POST", `/groups/${encodeURIComponent(group)}/members`, { uid });
  }

  /** Removes `uid` from `group`: its sockets there are closed with 4001. */
  revoke(group: string, uid: string): Promise<RevokeResult> {
    return call<RevokeResult>(this.transport, "DELETE", `/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(uid)}`);
  }

  /** Closes with 4000 every socket of a uid, or one connection by clientId. */
  kick(target: ({ uid: string } | { clientId: string }) & { reason?: string }): Promise<KickResult> {
    return call<KickResult>(this.transport, "POST", "/kick", target);
  }

  /**
   * A client token for `GET /ws?token=…`: signed locally when `tokenSecret` was given (no
   * network), else minted by `POST /token`.
   * @example const { token } = await push.signClientToken({ uid: "u1", groups: ["lobby"], ttl: 3600 })
   */
  async signClientToken(claims: ClientTokenClaims): Promise<ClientToken> {
    const ttl = claims.ttl ?? DEFAULT_TOKEN_TTL_S;
    if (!Number.isInteger(ttl) || ttl <= 0) throw new EdgePushError(400, "bad_request", `ttl: expected a positive integer of seconds, got ${ttl}`, 0);
    checkName(claims.uid, "uid");
    claims.groups?.forEach((group, i) => checkName(group, `groups.${i}`));
    if (!this.tokenKey) return call<ClientToken>(this.transport, "POST", "/token", { ...claims, ttl });
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = { sub: claims.uid, iat: now, exp: now + ttl };
    if (claims.groups && claims.groups.length > 0) payload.groups = claims.groups;
    return { token: await signHs256(payload, await this.tokenKey), expiresAt: now + ttl };
  }
}

function pageQuery({ limit, cursor }: ListOptions): string {
  const query = new URLSearchParams();
  if (limit !== undefined) query.set("limit", String(limit));
  if (cursor) query.set("cursor", cursor);
  const text = query.toString();
  return text ? `?${text}` : "";
}

const NAME_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** The server's name rule, checked before signing so a bad token fails here, not at connect. */
function checkName(value: unknown, field: string): void {
  if (typeof value !== "string" || !NAME_PATTERN.test(value)) {
    throw new EdgePushError(400, "invalid_name", `${field}: ${JSON.stringify(value)} is not a valid name (1-128 chars of [A-Za-z0-9_.:@-])`, 0);
  }
}


