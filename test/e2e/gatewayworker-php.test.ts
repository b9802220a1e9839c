/**
 * GatewayWorker mode end to end: Node `ws` clients play the seed's pages on `GET /gateway` (init
 * frame with the client_id, then raw payloads), php-cli plays its backend — the seed's ThinkPHP
 * controller code (examples/php/thinkphp) and GatewayClient calls through the drop-in
 * (examples/php/GatewayClient/Gateway.php) — against a real wrangler dev.
 */
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phpGateway, returned, type GatewayCall } from "./gatewayclient-helpers";
import { skipWithout } from "./prerequisites";
import { run, until } from "./php-helpers";
import { E2E_PUSH_SECRET, startWranglerDev, type DevServer } from "./wrangler-dev";

let server: DevServer;
const pages: Page[] = [];

interface Page {
  ws: WebSocket;
  clientId: string;
  /** Every frame after the init frame, as text. */
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
}

/** What the seed's page does: connect, and take the client_id from the init frame. */
async function page(query = ""): Promise<Page> {
  const ws = new WebSocket(`${server.wsUrl}/gateway${query}`);
  const messages: string[] = [];
  const closed = new Promise<{ code: number; reason: string }>((done) => ws.once("close", (code, reason) => done({ code, reason: String(reason) })));
  const init = await new Promise<string>((done, fail) => {
    ws.once("message", (data) => done(String(data)));
    ws.once("error", fail);
    ws.once("close", (code) => fail(new Error(`/gateway closed with ${code} before its init frame`)));
  });
  ws.on("message", (data) => messages.push(String(data)));
  const frame = JSON.parse(init) as { type: string; client_id: string };
  expect(frame).toEqual({ type: "init", client_id: expect.stringMatching(/^\d+\.\d+$/) });
  const opened = { ws, clientId: frame.client_id, messages, closed };
  pages.push(opened);
  return opened;
}

const messagesOf = (p: Page, n: number) =>
  until(() => (p.messages.length >= n ? p.messages.slice() : undefined), () => `${n} messages on ${p.clientId}, have ${JSON.stringify(p.messages)}`);

/** One action of the seed's ThinkPHP controllers (examples/php/thinkphp/run.php); fails unless it returned. */
async function thinkphp(action: string, params: Record<string, string>): Promise<string> {
  const args = Object.entries(params).map(([name, value]) => `${name}=${value}`);
  const php = await run("php", ["examples/php/thinkphp/run.php", action, ...args], { EDGEPUSH_URL: server.url, PUSH_SECRET: E2E_PUSH_SECRET });
  expect(php, php.stderr).toMatchObject({ code: 0, stderr: "" });
  return php.stdout;
}

/** GatewayClient calls through the drop-in; their return values, failing on any exception. */
async function gateway(...calls: GatewayCall[]): Promise<unknown[]> {
  const outcomes = await phpGateway({ edgepushUrl: server.url, secretKey: E2E_PUSH_SECRET }, calls);
  return outcomes.map((o) => returned(o).value);
}

/** Proof that `p` got nothing before now: a marker sent to it directly is its next message. */
async function expectNothingElse(p: Page, had: number): Promise<void> {
  await gateway(["sendToClient", p.clientId, "marker"]);
  expect((await messagesOf(p, had + 1)).slice(had)).toEqual(["marker"]);
}

describe.skipIf(skipWithout("php"))("GatewayWorker mode: the seed's ThinkPHP backend through the GatewayClient drop-in, and ws pages on /gateway", () => {
  beforeAll(async () => {
    server = await startWranglerDev({ GATEWAY_ANONYMOUS: "true" });
  });
  afterAll(async () => {
    for (const p of pages) p.ws.close();
    await server?.stop();
  });

  it("Should bind and join with the seed's bind(), and deliver the seed's chat to both members of the group but not a third", async () => {
    const [ann, bob, eve] = [await page(), await page(), await page()];
    expect(await thinkphp("chat_room/bind", { client_id: ann.clientId, uid: "ann", group: "room1" })).toBe("null\n");
    await thinkphp("chat_room/bind", { client_id: bob.clientId, uid: "bob", group: "room1" });
    await thinkphp("chat_room/bind", { client_id: eve.clientId, uid: "eve", group: "room2" });
    const say = JSON.stringify({ type: "say", roomId: "room1", userId: "ann", userName: "Ann", content: "hello" });
    await thinkphp("events/chat", { client_id: ann.clientId, message: say });
    for (const member of [ann, bob]) {
      const [text] = await messagesOf(member, 1);
      expect(text.startsWith('{"type":"say","roomId":"room1","userName":"Ann","content":"hello","commentTime":"')).toBe(true);
    }
    await expectNothingElse(eve, 0);
  });

  it("Should deliver the seed's sendMessage() to the bound uid as exactly the JSON text PHP encoded", async () => {
    const p = await page();
    await thinkphp("chat_room/bind", { client_id: p.clientId, uid: "carl", group: "room3" });
    await thinkphp("chat_room/send_message", { uid: "carl" });
    expect(await messagesOf(p, 1)).toEqual(['{"type":"say","msg":"Hello ThinkPHP5"}']);
  });

  it("Should deliver sendToUid to every connection bound to the uid and to no other", async () => {
    const [a1, a2, other] = [await page(), await page(), await page()];
    await gateway(["bindUid", a1.clientId, "dana"], ["bindUid", a2.clientId, "dana"], ["bindUid", other.clientId, "ed"]);
    await gateway(["sendToUid", "dana", "for dana"]);
    expect(await messagesOf(a1, 1)).toEqual(["for dana"]);
    expect(await messagesOf(a2, 1)).toEqual(["for dana"]);
    await expectNothingElse(other, 0);
  });

  it("Should say isUidOnline 1 while a bound connection is open and 0 after it closed", async () => {
    const p = await page();
    expect(await gateway(["isUidOnline", "fay"], ["bindUid", p.clientId, "fay"], ["isUidOnline", "fay"], ["isOnline", p.clientId])).toEqual([0, null, 1, 1]);
    p.ws.close();
    await p.closed;
    await until(async () => ((await gateway(["isUidOnline", "fay"]))[0] === 0 ? true : undefined), () => "fay to go offline");
    expect(await gateway(["isOnline", p.clientId], ["getClientIdByUid", "fay"], ["getUidByClientId", p.clientId])).toEqual([0, [], null]);
  });

  it("Should count and list a group's connections and uids, and a uid's client_ids", async () => {
    const [g1, g2, g3] = [await page(), await page(), await page()];
    await gateway(["bindUid", g1.clientId, "gus"], ["bindUid", g2.clientId, "gus"], ["bindUid", g3.clientId, "hal"]);
    await gateway(...[g1, g2, g3].map((p): GatewayCall => ["joinGroup", p.clientId, "counted"]));
    const [count, clientCount, uidCount, ids, uids, ofGus, uidOf] = await gateway(
      ["getClientIdCountByGroup", "counted"], ["getClientCountByGroup", "counted"], ["getUidCountByGroup", "counted"],
      ["getClientIdListByGroup", "counted"], ["getUidListByGroup", "counted"], ["getClientIdByUid", "gus"], ["getUidByClientId", g3.clientId],
    );
    expect([count, clientCount, uidCount]).toEqual([3, 3, 2]);
    expect(ids).toEqual({ [g1.clientId]: g1.clientId, [g2.clientId]: g2.clientId, [g3.clientId]: g3.clientId });
    expect(uids).toEqual({ gus: "gus", hal: "hal" });
    expect((ofGus as string[]).slice().sort()).toEqual([g1.clientId, g2.clientId].sort());
    expect(uidOf).toBe("hal");
    const [all, groups, allUids, total] = await gateway(["getAllClientIdList"], ["getAllGroupIdList"], ["getAllUidList"], ["getAllClientCount"]);
    expect(all).toMatchObject({ [g1.clientId]: g1.clientId, [g3.clientId]: g3.clientId });
    expect(groups).toMatchObject({ counted: "counted" });
    expect(allUids).toMatchObject({ gus: "gus", hal: "hal" });
    expect(total as number).toBeGreaterThanOrEqual(3);
    // unbindUid's uid is ignored, as GatewayWorker's gateway ignores it: g3 loses "hal" all the same.
    await gateway(["leaveGroup", g2.clientId, "counted"], ["unbindUid", g3.clientId, "not-hal"]);
    expect(await gateway(["getClientIdCountByGroup", "counted"], ["getUidListByGroup", "counted"])).toEqual([2, { gus: "gus" }]);
  });

  it("Should keep a session through set, update and get, and list it by group", async () => {
    const p = await page();
    await gateway(["joinGroup", p.clientId, "sessions"], ["setSession", p.clientId, { name: "Ivy", level: 1 }], ["updateSession", p.clientId, { level: 2 }]);
    expect(await gateway(["getSession", p.clientId], ["getClientSessionsByGroup", "sessions"])).toEqual([
      { name: "Ivy", level: 2 },
      { [p.clientId]: { name: "Ivy", level: 2 } },
    ]);
    // GatewayWorker merges with array_replace_recursive: nested arrays key by key.
    await gateway(["setSession", p.clientId, { name: "Ivy", prefs: { theme: "dark", langs: ["en", "zh"] } }], ["updateSession", p.clientId, { prefs: { size: 2, langs: ["fr"] } }]);
    expect(await gateway(["getSession", p.clientId])).toEqual([{ name: "Ivy", prefs: { theme: "dark", langs: ["fr", "zh"], size: 2 } }]);
    const [oversize] = await phpGateway({ edgepushUrl: server.url, secretKey: E2E_PUSH_SECRET }, [["setSession", p.clientId, { big: "x".repeat(9000) }]]);
    expect(oversize).toMatchObject({ exception: { status: 413, code: "too_large" } });
  });

  it("Should close a client with closeClient after sending its last message", async () => {
    const p = await page();
    expect(await gateway(["closeClient", p.clientId, "bye"])).toEqual([true]);
    await p.closed;
    expect(p.messages).toEqual(["bye"]);
    expect(await gateway(["isOnline", p.clientId])).toEqual([0]);
  });

  it("Should empty a group with ungroup, so its next sendToGroup reaches nobody", async () => {
    const [j1, j2] = [await page(), await page()];
    await gateway(["joinGroup", j1.clientId, "disband"], ["joinGroup", j2.clientId, "disband"]);
    expect(await gateway(["getClientIdCountByGroup", "disband"], ["ungroup", "disband"], ["getClientIdCountByGroup", "disband"])).toEqual([2, null, 0]);
    await gateway(["sendToGroup", "disband", "too late"]);
    await expectNothingElse(j1, 0);
    await expectNothingElse(j2, 0);
  });

  it("Should start a token connection bound to the token's uid and joined to its groups", async () => {
    const res = await fetch(`${server.url}/token`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}`, "Content-Type": "application/json" },
      body: JSON.stringify({ uid: "kim", groups: ["tokened"], ttl: 60 }),
    });
    const { token } = (await res.json()) as { token: string };
    const p = await page(`?token=${token}`);
    expect(await gateway(["getUidByClientId", p.clientId], ["getClientIdListByGroup", "tokened"])).toEqual(["kim", { [p.clientId]: p.clientId }]);
    await gateway(["sendToGroup", "tokened", "to the token's group"]);
    expect(await messagesOf(p, 1)).toEqual(["to the token's group"]);
  });

  it("Should refuse a malformed client_id with invalid_name and a method edgepush cannot honour by name", async () => {
    const outcomes = await phpGateway({ edgepushUrl: server.url, secretKey: E2E_PUSH_SECRET }, [["bindUid", "not-a-client", "u"], ["isOnline", "nope"], ["sendToCurrentClient", "x"]]);
    expect(outcomes).toMatchObject([
      { exception: { status: 400, code: "invalid_name" } },
      { exception: { status: 400, code: "invalid_name" } },
      { exception: { code: "unsupported", message: expect.stringContaining("Gateway::sendToCurrentClient") } },
    ]);
  });
});
