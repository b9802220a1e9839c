/**
 * The PHP GatewayClient drop-in (examples/php/GatewayClient/Gateway.php) in php-cli against a fake
 * edgepush that records every request: each Gateway method must make exactly the HTTP call of the
 * GatewayWorker-mode API and turn the answer into GatewayClient's return shape. The same calls
 * against a real wrangler dev are in test/e2e/gatewayworker-php.test.ts.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { phpGateway, returned, type CallOutcome, type GatewayCall } from "../e2e/gatewayclient-helpers";
import { skipWithout } from "../e2e/prerequisites";

// Without php outside CI: skipped, with one line saying what to install.
const NO_PHP = skipWithout("php");

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  port: number;
}

interface Answer {
  status?: number;
  body?: unknown;
  raw?: string;
  delayMs?: number;
}

const SECRET = "wire-secret";
const ID = "3.8127364512098734";
const ID2 = "5.1000000000000001";
const NOT_CONNECTED: Answer = { status: 404, body: { error: { code: "not_found", message: `client ${ID} is not connected` } } };

let server: Server;
let url: string;
let answers: Record<string, Answer> = {};
let recorded: Recorded[] = [];
let connections = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (d) => (text += d));
    req.on("end", () => {
      recorded.push({ method: req.method!, url: req.url!, headers: req.headers, body: text ? JSON.parse(text) : undefined, port: req.socket.remotePort! });
      const answer = answers[`${req.method} ${req.url}`] ?? { body: { ok: true } };
      setTimeout(() => {
        res.writeHead(answer.status ?? 200, { "Content-Type": "application/json" });
        res.end(answer.raw ?? JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));
beforeEach(() => {
  answers = {};
  recorded = [];
  connections = 0;
});

/** Runs the calls with the fake's URL and secret; `answers` says what the fake replies per "METHOD /path". */
async function calls(list: GatewayCall[], replies: Record<string, Answer> = {}, settings: Record<string, unknown> = {}): Promise<CallOutcome[]> {
  answers = replies;
  return phpGateway({ edgepushUrl: url, secretKey: SECRET, ...settings }, list);
}

/** One call's return value (type and value) and the requests it made, as [method url body]. */
async function one(call: GatewayCall, replies: Record<string, Answer> = {}) {
  const [outcome] = await calls([call], replies);
  return { result: returned(outcome), wire: recorded.map((r) => [r.method, r.url, r.body]) };
}

async function thrown(call: GatewayCall, replies: Record<string, Answer> = {}, settings: Record<string, unknown> = {}) {
  const [outcome] = await calls([call], replies, settings);
  if (!("exception" in outcome)) throw new Error(`expected an exception, got ${JSON.stringify(outcome)}`);
  return outcome.exception;
}

const NULL = { type: "null", value: null };

describe.skipIf(NO_PHP)("GatewayClient drop-in (PHP) wire calls: binding and sessions of one client_id", () => {
  it("Should send bindUid as POST /clients/:id/uid with the uid as a string, the bearer secret and JSON, and return null", async () => {
    expect(await one(["bindUid", ID, 42])).toEqual({ result: NULL, wire: [["POST", `/clients/${ID}/uid`, { uid: "42" }]] });
    expect(recorded[0].headers).toMatchObject({ authorization: `Bearer ${SECRET}`, "content-type": "application/json" });
    expect(recorded[0].headers.expect).toBeUndefined();
  });

  it("Should send unbindUid (without its uid, which GatewayWorker ignores), joinGroup and leaveGroup as their DELETE / POST / DELETE calls, each returning null", async () => {
    const outcomes = await calls([["unbindUid", ID, "u1"], ["joinGroup", ID, "g1"], ["leaveGroup", ID, "g1"]]);
    expect(outcomes.map((o) => returned(o))).toEqual([NULL, NULL, NULL]);
    expect(recorded.map((r) => [r.method, r.url, r.body])).toEqual([
      ["DELETE", `/clients/${ID}/uid`, undefined],
      ["POST", `/clients/${ID}/groups`, { group: "g1" }],
      ["DELETE", `/clients/${ID}/groups/g1`, undefined],
    ]);
    expect(recorded[0].headers["content-type"]).toBeUndefined();
  });

  it("Should percent-encode names in paths", async () => {
    expect((await one(["leaveGroup", ID, "a b/c"])).wire).toEqual([["DELETE", `/clients/${ID}/groups/a%20b%2Fc`, undefined]]);
  });

  it("Should send setSession as PUT and updateSession as PATCH of {session}, an empty array as {}", async () => {
    const outcomes = await calls([["setSession", ID, { name: "Ann", tags: [1, 2] }], ["setSession", ID, []], ["updateSession", ID, { age: 3 }]]);
    expect(outcomes.map((o) => returned(o))).toEqual([NULL, NULL, NULL]);
    expect(recorded.map((r) => [r.method, r.url, r.body])).toEqual([
      ["PUT", `/clients/${ID}/session`, { session: { name: "Ann", tags: [1, 2] } }],
      ["PUT", `/clients/${ID}/session`, { session: {} }],
      ["PATCH", `/clients/${ID}/session`, { session: { age: 3 } }],
    ]);
  });

  it("Should send setSocketSession's serialize() text as the session it encodes and return true", async () => {
    expect(await one(["setSocketSession", ID, { serialize: { a: 1 } }])).toEqual({
      result: { type: "bool", value: true },
      wire: [["PUT", `/clients/${ID}/session`, { session: { a: 1 } }]],
    });
  });

  it("Should send closeClient as POST /clients/:id/close, with the message when given, and return true", async () => {
    const outcomes = await calls([["closeClient", ID], ["closeClient", ID, "bye"], ["destoryClient", ID]]);
    expect(outcomes.map((o) => returned(o).value)).toEqual([true, true, true]);
    expect(recorded.map((r) => [r.method, r.url, r.body])).toEqual([
      ["POST", `/clients/${ID}/close`, {}],
      ["POST", `/clients/${ID}/close`, { message: "bye" }],
      ["POST", `/clients/${ID}/close`, {}],
    ]);
  });

  it("Should treat a write to a client that is not connected as GatewayWorker does: no exception, closeClient false", async () => {
    const replies = { [`POST /clients/${ID}/uid`]: NOT_CONNECTED, [`POST /clients/${ID}/close`]: NOT_CONNECTED, [`PUT /clients/${ID}/session`]: NOT_CONNECTED };
    const outcomes = await calls([["bindUid", ID, "u1"], ["closeClient", ID], ["setSocketSession", ID, ""]], replies);
    expect(outcomes.map((o) => returned(o))).toEqual([NULL, { type: "bool", value: false }, { type: "bool", value: false }]);
  });

  it("Should throw on a 404 that is not about the client_id, so a server without the routes is not silent", async () => {
    const missing = { status: 404, body: { error: { code: "not_found", message: "no route POST /clients/x/uid" } } };
    expect(await thrown(["bindUid", ID, "u1"], { [`POST /clients/${ID}/uid`]: missing })).toMatchObject({
      class: "GatewayClient\\EdgepushException", status: 404, code: "not_found", getCode: 404,
      message: `edgepush POST /clients/${ID}/uid answered 404 not_found: no route POST /clients/x/uid`,
    });
  });

  it("Should read isOnline, getUidByClientId and getSession from GET /clients/:id in GatewayClient's shapes", async () => {
    const online = { body: { client_id: ID, online: true, uid: "u1", groups: ["g1"], session: { a: 1 } } };
    const outcomes = await calls([["isOnline", ID], ["getUidByClientId", ID], ["getSession", ID]], { [`GET /clients/${ID}`]: online });
    expect(outcomes.map((o) => returned(o))).toEqual([{ type: "int", value: 1 }, { type: "string", value: "u1" }, { type: "array", value: { a: 1 }, list: false }]);
    expect(recorded.map((r) => [r.method, r.url])).toEqual(Array(3).fill(["GET", `/clients/${ID}`]));
  });

  it("Should answer 0, null and null for a client_id that is offline, and [] for an online one without a session", async () => {
    const offline = { body: { client_id: ID, online: false, uid: null, groups: [], session: null } };
    const bare = { body: { client_id: ID2, online: true, uid: null, groups: [], session: null } };
    const outcomes = await calls([["isOnline", ID], ["getUidByClientId", ID], ["getSession", ID], ["getSession", ID2]], { [`GET /clients/${ID}`]: offline, [`GET /clients/${ID2}`]: bare });
    expect(outcomes.map((o) => returned(o))).toEqual([{ type: "int", value: 0 }, NULL, NULL, { type: "array", value: [], list: true }]);
  });
});

describe.skipIf(NO_PHP)("GatewayClient drop-in (PHP) wire calls: pushes", () => {
  it("Should send sendToClient as one clientId push of the message text and return true", async () => {
    expect(await one(["sendToClient", ID, '{"type":"say"}'])).toEqual({
      result: { type: "bool", value: true }, wire: [["POST", "/push", { clientId: ID, data: '{"type":"say"}' }]],
    });
  });

  it("Should send sendToUid to one uid, or to uids for an array, with numbers as strings", async () => {
    await calls([["sendToUid", "u1", "hi"], ["sendToUid", ["u1", 7], "hi"], ["sendToUid", 7, 8]]);
    expect(recorded.map((r) => r.body)).toEqual([{ uid: "u1", data: "hi" }, { uids: ["u1", "7"], data: "hi" }, { uid: "7", data: "8" }]);
  });

  it("Should send sendToGroup to a group or groups with exclude, return null, and refuse an empty group with false and no call", async () => {
    const outcomes = await calls([["sendToGroup", "g1", "hi"], ["sendToGroup", ["g1", "g2"], "hi", ID], ["sendToGroup", "g1", "hi", [ID, ID2], true], ["sendToGroup", "", "hi"], ["sendToGroup", [], "hi"]]);
    expect(outcomes.map((o) => returned(o))).toEqual([NULL, NULL, NULL, { type: "bool", value: false }, { type: "bool", value: false }]);
    expect(recorded.map((r) => r.body)).toEqual([
      { group: "g1", data: "hi" },
      { groups: ["g1", "g2"], data: "hi", exclude: [ID] },
      { group: "g1", data: "hi", exclude: [ID, ID2] },
    ]);
  });

  it("Should send sendToAll as an all push with exclude, and to listed client_ids as a batch without the excluded", async () => {
    const outcomes = await calls([["sendToAll", "hi"], ["sendToAll", "hi", null, ID], ["sendToAll", "hi", [ID, ID2], [ID]], ["sendToAll", "hi", []]], {
      "POST /push": { body: { ok: true, results: [{ ok: true }] } },
    });
    expect(outcomes.map((o) => returned(o))).toEqual([NULL, NULL, NULL, NULL]);
    expect(recorded.map((r) => r.body)).toEqual([{ all: true, data: "hi" }, { all: true, data: "hi", exclude: [ID] }, [{ clientId: ID2, data: "hi" }]]);
  });

  it("Should split sendToAll to 2500 client_ids into batches of 1000, 1000 and 500", async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `1.${i}`);
    await calls([["sendToAll", "x", ids]], { "POST /push": { body: { results: [] } } });
    expect(recorded.map((r) => (r.body as unknown[]).length)).toEqual([1000, 1000, 500]);
    expect(recorded.flatMap((r) => (r.body as { clientId: string }[]).map((m) => m.clientId))).toEqual(ids);
  });

  it("Should throw when an item of a sendToAll batch is refused, naming the item and its client_id", async () => {
    const refused = { body: { results: [{ ok: true }, { error: { code: "invalid_name", message: "clientId: \"bad\" is not a clientId issued by edgepush" } }] } };
    expect(await thrown(["sendToAll", "x", [ID, "bad"]], { "POST /push": refused })).toMatchObject({ code: "invalid_name", message: expect.stringContaining("item 1 (bad)") });
  });

  it("Should not make curl wait for a 100 Continue before a large body", async () => {
    await calls([["sendToUid", "u1", { repeat: ["x", 1_100_000] }]]);
    expect((recorded[0].body as { data: string }).data).toHaveLength(1_100_000);
    expect(recorded[0].headers.expect).toBeUndefined();
  });

  it("Should send multibyte UTF-8 messages as they are and refuse arrays (GatewayClient sends strings) without a call", async () => {
    const outcomes = await calls([["sendToUid", "u1", "你好 🙂"], ["sendToUid", "u1", { a: 1 }]]);
    expect(recorded.map((r) => r.body)).toEqual([{ uid: "u1", data: "你好 🙂" }]);
    expect(outcomes[1]).toMatchObject({ exception: { class: "InvalidArgumentException", message: expect.stringContaining("json_encode") } });
  });
});

describe.skipIf(NO_PHP)("GatewayClient drop-in (PHP) wire calls: uids, groups and the deployment", () => {
  it("Should read isUidOnline as int from GET /online/:uid and isUidsOnline as uid => int", async () => {
    const replies = { "GET /online/u1": { body: { uid: "u1", online: true, connections: 2 } }, "GET /online/u2": { body: { uid: "u2", online: false, connections: 0 } } };
    const outcomes = await calls([["isUidOnline", "u1"], ["isUidOnline", "u2"], ["isUidsOnline", ["u1", "u2"]]], replies);
    expect(outcomes.map((o) => returned(o))).toEqual([{ type: "int", value: 1 }, { type: "int", value: 0 }, { type: "array", value: { u1: 1, u2: 0 }, list: false }]);
  });

  it("Should read getClientIdByUid as a list and batchGetClientIdByUid as uid => list from GET /uids/:uid/clients", async () => {
    const replies = { "GET /uids/u1/clients": { body: { uid: "u1", client_ids: [ID, ID2] } }, "GET /uids/u2/clients": { body: { uid: "u2", client_ids: [] } } };
    const outcomes = await calls([["getClientIdByUid", "u1"], ["batchGetClientIdByUid", ["u1", "u2"]]], replies);
    expect(outcomes.map((o) => returned(o))).toEqual([{ type: "array", value: [ID, ID2], list: true }, { type: "array", value: { u1: [ID, ID2], u2: [] }, list: false }]);
  });

  it("Should follow GET /uids's cursor to the end for getAllUidList (uid => uid) and count uids from GET /stats", async () => {
    const replies = { "GET /uids": { body: { uids: ["u1", "u2"], cursor: "c 1" } }, "GET /uids?cursor=c%201": { body: { uids: ["u3"], cursor: null } }, "GET /stats": { body: { connections: 9, rooms: 4, uids: 3, groups: 2 } } };
    const outcomes = await calls([["getAllUidList"], ["getAllUidCount"]], replies);
    expect(outcomes.map((o) => returned(o))).toEqual([{ type: "array", value: { u1: "u1", u2: "u2", u3: "u3" }, list: false }, { type: "int", value: 3 }]);
    expect(recorded.map((r) => r.url)).toEqual(["/uids", "/uids?cursor=c%201", "/stats"]);
  });

  it("Should read a group's client_ids, counts and sessions from GET /groups/:group/clients", async () => {
    const g1 = { body: { group: "g1", client_ids: [ID, ID2], sessions: { [ID]: { a: 1 }, [ID2]: null } } };
    const g2 = { body: { group: "g2", client_ids: ["7.7"], sessions: {} } };
    const outcomes = await calls([
      ["getClientIdListByGroup", "g1"], ["getClientIdListByGroup", ["g1", "g2"]], ["getClientIdCountByGroup", "g1"], ["getClientCountByGroup", "g2"],
      ["batchGetClientIdCountByGroup", ["g1", "g2"]], ["getClientSessionsByGroup", "g1"], ["getAllClientSessions", "g1"], ["getClientInfoByGroup", "g1"],
    ], { "GET /groups/g1/clients": g1, "GET /groups/g2/clients": g2 });
    const sessions = { type: "array", value: { [ID]: { a: 1 }, [ID2]: [] }, list: false };
    expect(outcomes.map((o) => returned(o))).toEqual([
      { type: "array", value: { [ID]: ID, [ID2]: ID2 }, list: false },
      { type: "array", value: { [ID]: ID, [ID2]: ID2, "7.7": "7.7" }, list: false },
      { type: "int", value: 2 }, { type: "int", value: 1 },
      { type: "array", value: { g1: 2, g2: 1 }, list: false },
      sessions, sessions, sessions,
    ]);
    expect(new Set(recorded.map((r) => `${r.method} ${r.url}`))).toEqual(new Set(["GET /groups/g1/clients", "GET /groups/g2/clients"]));
  });

  it("Should count every connection from GET /stats for the group '' and getAllClientIdCount / getAllClientCount", async () => {
    const outcomes = await calls([["getClientIdCountByGroup"], ["getClientCountByGroup", ""], ["getAllClientIdCount"], ["getAllClientCount"]], { "GET /stats": { body: { connections: 9, rooms: 4, uids: 3, groups: 2 } } });
    expect(outcomes.map((o) => returned(o))).toEqual(Array(4).fill({ type: "int", value: 9 }));
    expect(recorded.map((r) => r.url)).toEqual(Array(4).fill("/stats"));
  });

  it("Should read getUidListByGroup (uid => uid, union for an array) and getUidCountByGroup from GET /groups/:group", async () => {
    const replies = { "GET /groups/g1": { body: { group: "g1", connections: 3, uids: ["u1", "u2"] } }, "GET /groups/g2": { body: { group: "g2", connections: 1, uids: ["u2"] } } };
    const outcomes = await calls([["getUidListByGroup", "g1"], ["getUidListByGroup", ["g1", "g2"]], ["getUidCountByGroup", "g1"], ["getUidCountByGroup", ""]], replies);
    expect(outcomes.map((o) => returned(o))).toEqual([
      { type: "array", value: { u1: "u1", u2: "u2" }, list: false }, { type: "array", value: { u1: "u1", u2: "u2" }, list: false },
      { type: "int", value: 2 }, { type: "int", value: 0 },
    ]);
  });

  it("Should send ungroup as DELETE /groups/:group returning null, and refuse an empty group with false", async () => {
    const outcomes = await calls([["ungroup", "g1"], ["ungroup", "0"]], { "DELETE /groups/g1": { body: { ok: true, group: "g1", removed: 2 } } });
    expect(outcomes.map((o) => returned(o))).toEqual([NULL, { type: "bool", value: false }]);
    expect(recorded.map((r) => `${r.method} ${r.url}`)).toEqual(["DELETE /groups/g1"]);
  });

  it("Should list groups from paged GET /groups and build the per-group uid and client_id maps, leaving out empty groups", async () => {
    const replies = {
      "GET /groups": { body: { groups: ["g1"], cursor: "n" } }, "GET /groups?cursor=n": { body: { groups: ["g2"], cursor: null } },
      "GET /groups/g1": { body: { group: "g1", connections: 2, uids: ["u1", "u2"] } }, "GET /groups/g2": { body: { group: "g2", connections: 1, uids: [] } },
      "GET /groups/g1/clients": { body: { group: "g1", client_ids: [ID], sessions: {} } }, "GET /groups/g2/clients": { body: { group: "g2", client_ids: [ID2], sessions: {} } },
    };
    const outcomes = await calls([["getAllGroupIdList"], ["getAllGroupUidList"], ["getAllGroupUidCount"], ["getAllGroupClientIdList"], ["getAllGroupClientIdCount"]], replies);
    expect(outcomes.map((o) => returned(o).value)).toEqual([
      { g1: "g1", g2: "g2" },
      { g1: { u1: "u1", u2: "u2" } },
      { g1: 2 },
      { g1: { [ID]: ID }, g2: { [ID2]: ID2 } },
      { g1: 1, g2: 1 },
    ]);
  });

  it("Should list every client_id and session from GET /clients", async () => {
    const all = { body: { client_ids: [ID, ID2], sessions: { [ID]: { n: 1 } } } };
    const outcomes = await calls([["getAllClientIdList"], ["getAllClientSessions"], ["getAllClientInfo"]], { "GET /clients": all });
    expect(outcomes.map((o) => returned(o).value)).toEqual([{ [ID]: ID, [ID2]: ID2 }, { [ID]: { n: 1 }, [ID2]: [] }, { [ID]: { n: 1 }, [ID2]: [] }]);
    expect(recorded.map((r) => r.url)).toEqual(Array(3).fill("/clients"));
  });
});

describe.skipIf(NO_PHP)("GatewayClient drop-in (PHP) wire calls: what it refuses, errors and the connection", () => {
  it.each([["destoryCurrentClient"], ["sendToCurrentClient", "x"], ["closeCurrentClient"], ["setBusinessWorker", null]])(
    "Should throw for %s, naming it and why, without a call", async (method, ...args) => {
      expect(await thrown([method, ...args])).toMatchObject({ class: "GatewayClient\\EdgepushException", code: "unsupported", status: 0, message: expect.stringMatching(new RegExp(`^Gateway::${method} is not supported by edgepush: .+`)) });
      expect(recorded).toEqual([]);
    });

  it("Should throw with the status, code and message of an edgepush error answer", async () => {
    const replies = {
      [`GET /clients/bad`]: { status: 400, body: { error: { code: "invalid_name", message: "client_id \"bad\" is malformed" } } },
      [`PUT /clients/${ID}/session`]: { status: 413, body: { error: { code: "too_large", message: "session over 8 KiB" } } },
      "POST /push": { status: 401, body: { error: { code: "unauthorized", message: "bad secret" } } },
    };
    const outcomes = await calls([["isOnline", "bad"], ["setSession", ID, { big: "x" }], ["sendToUid", "u1", "x"]], replies);
    expect(outcomes).toMatchObject([
      { exception: { status: 400, code: "invalid_name", message: 'edgepush GET /clients/bad answered 400 invalid_name: client_id "bad" is malformed' } },
      { exception: { status: 413, code: "too_large" } },
      { exception: { status: 401, code: "unauthorized", message: "edgepush POST /push answered 401 unauthorized: bad secret" } },
    ]);
  });

  it("Should throw bad_answer for a 200 that is not JSON, and http_error for an error without the contract's shape", async () => {
    const outcomes = await calls([["isOnline", ID], ["isUidOnline", "u1"]], { [`GET /clients/${ID}`]: { raw: "<html>" }, "GET /online/u1": { status: 502, raw: "Bad Gateway" } });
    expect(outcomes).toMatchObject([{ exception: { code: "bad_answer", status: 200 } }, { exception: { code: "http_error", status: 502, message: expect.stringContaining("Bad Gateway") } }]);
  });

  it("Should throw misconfigured without a call when secretKey is empty", async () => {
    expect(await thrown(["sendToUid", "u1", "x"], {}, { secretKey: "" })).toMatchObject({ code: "misconfigured", message: expect.stringContaining("PUSH_SECRET") });
    expect(recorded).toEqual([]);
  });

  it("Should throw unreachable, naming the URL, when nothing listens there", async () => {
    expect(await thrown(["isUidOnline", "u1"], {}, { edgepushUrl: "http://127.0.0.1:9" })).toMatchObject({ code: "unreachable", status: 0, message: expect.stringContaining("http://127.0.0.1:9") });
  });

  it("Should give up after Gateway::$timeout seconds when edgepush does not answer", async () => {
    const started = Date.now();
    expect(await thrown(["isUidOnline", "u1"], { "GET /online/u1": { delayMs: 3000, body: {} } }, { timeout: 0.3 })).toMatchObject({ code: "unreachable", message: expect.stringMatching(/timed out/i) });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("Should reuse one kept-alive connection for every call of a PHP process", async () => {
    await calls([["bindUid", ID, "u1"], ["joinGroup", ID, "g1"], ["sendToGroup", "g1", "x"], ["isUidOnline", "u1"], ["getAllClientIdList"]], {
      "GET /online/u1": { body: { online: true } }, "GET /clients": { body: { client_ids: [] } },
    });
    expect(recorded).toHaveLength(5);
    expect(new Set(recorded.map((r) => r.port)).size).toBe(1);
    expect(connections).toBe(1);
  });

  it("Should ignore Gateway::$registerAddress, as the seed's bind() still sets it", async () => {
    await calls([["bindUid", ID, "u1"]], {}, { registerAddress: "127.0.0.1:1238" });
    expect(recorded.map((r) => r.url)).toEqual([`/clients/${ID}/uid`]);
  });
});
