import { describe, expect, it } from "vitest";
import { gatewayConnect } from "./gateway-helpers";
import { api, push, type Client } from "./helpers";
import { eventually, unique } from "./presence-helpers";

/** Frames received so far, parsed (non-JSON ones as their text). */
const frames = (client: Client): any[] => client.messages.map((m) => { try { return JSON.parse(m); } catch { return m; } });

/** Waits for a frame matching `pick`; returns it. */
async function frameWhere(client: Client, pick: (f: any) => boolean): Promise<any> {
  const found = await eventually(async () => frames(client).find(pick), (f) => f !== undefined);
  return found;
}

const envelopeSocket = (uid: string, groups: string[] = [], since?: number) => gatewayConnect(uid, { groups, format: "envelope", since });

describe("GET /gateway?format=envelope: one socket for the uid and its groups (the client library's transport)", () => {
  it("Should tell the client of each room it entered at connect, then deliver pushes as envelopes naming the room", async () => {
    const [uid, g1, g2] = [unique("fu"), unique("fg"), unique("fg")];
    const { client } = await envelopeSocket(uid, [g1, g2]);
    for (const room of [`uid:${uid}`, `group:${g1}`, `group:${g2}`]) {
      expect(await frameWhere(client, (f) => f.type === "joined" && f.room === room)).toMatchObject({ seq: 0 });
    }
    expect(frames(client).find((f) => f.room === `group:${g1}`)).toEqual({ type: "joined", room: `group:${g1}`, group: g1, seq: 0 });
    await push({ group: g2, data: { n: 1 } });
    expect(await frameWhere(client, (f) => f.type === "push")).toMatchObject({ room: `group:${g2}`, type: "push", seq: 1, data: { n: 1 } });
  });

  it("Should join only the uid room at connect with autojoin=false, the token's groups being allowed for join frames", async () => {
    const [uid, group] = [unique("fu"), unique("fg")];
    const { client } = await gatewayConnect(uid, { groups: [group], format: "envelope", autojoin: false });
    await frameWhere(client, (f) => f.type === "joined");
    expect(await push({ group, data: "not yet", ttl: 0 })).toMatchObject({ delivered: 0 });
    client.send(JSON.stringify({ type: "join", group }));
    await frameWhere(client, (f) => f.type === "joined" && f.group === group);
    expect(frames(client).filter((f) => f.type === "joined").map((f) => f.room)).toEqual([`uid:${uid}`, `group:${group}`]);
  });

  it("Should leave a group on a leave frame and join it again from the token's groups", async () => {
    const [uid, group] = [unique("fu"), unique("fg")];
    const { client } = await envelopeSocket(uid, [group]);
    await frameWhere(client, (f) => f.type === "joined" && f.group === group);
    client.send(JSON.stringify({ type: "leave", group }));
    expect(await frameWhere(client, (f) => f.type === "left")).toEqual({ type: "left", room: `group:${group}`, group });
    expect(await push({ group, data: "while away", ttl: 0 })).toMatchObject({ delivered: 0 });
    client.messages.length = 0;
    client.send(JSON.stringify({ type: "join", group }));
    await frameWhere(client, (f) => f.type === "joined" && f.group === group);
    expect(await push({ group, data: "back" })).toMatchObject({ delivered: 1 });
    expect(await frameWhere(client, (f) => f.type === "push")).toMatchObject({ data: "back" });
  });

  it("Should replay a group's log after since on join, before anything live", async () => {
    const [uid, group] = [unique("fu"), unique("fg")];
    for (const n of [1, 2, 3]) await push({ group, data: n });
    const { client } = await envelopeSocket(uid, [group]);
    await frameWhere(client, (f) => f.type === "joined" && f.group === group);
    client.messages.length = 0;
    client.send(JSON.stringify({ type: "join", group, since: 1 }));
    await client.waitFor(3);
    expect(frames(client).map((f) => [f.type, f.seq, f.data])).toEqual([["joined", 3, undefined], ["push", 2, 2], ["push", 3, 3]]);
  });

  it("Should hand a uid's offline queue to an envelope connection without since, and resume the uid room by since", async () => {
    const uid = unique("fu");
    await push({ uid, data: "queued 1" });
    await push({ uid, data: "queued 2" });
    const first = await envelopeSocket(uid);
    await first.client.waitFor(3);
    expect(frames(first.client).map((f) => f.data ?? f.type)).toEqual(["joined", "queued 1", "queued 2"]);
    const again = await envelopeSocket(uid, [], 1);
    await again.client.waitFor(2);
    expect(frames(again.client).map((f) => f.data ?? f.type)).toEqual(["joined", "queued 2"]);
  });

  it("Should refuse a group the token does not allow, and accept it with a grant's join token", async () => {
    const [uid, group] = [unique("fu"), unique("fg")];
    const { client } = await envelopeSocket(uid);
    await frameWhere(client, (f) => f.type === "joined");
    client.send(JSON.stringify({ type: "join", group }));
    expect(await frameWhere(client, (f) => f.type === "error")).toMatchObject({ code: "not_allowed", message: expect.stringContaining(group) });
    const granted = await api(`/groups/${group}/members`, { json: { uid } });
    expect(await granted.json()).toMatchObject({ notified: 1 });
    const grant = await frameWhere(client, (f) => f.type === "join");
    expect(grant).toEqual({ type: "join", group, token: expect.any(String) });
    client.send(JSON.stringify({ type: "join", group, token: grant.token }));
    expect(await frameWhere(client, (f) => f.type === "joined" && f.group === group)).toBeTruthy();
    const other = await envelopeSocket(unique("fu"));
    other.client.send(JSON.stringify({ type: "join", group, token: grant.token }));
    expect(await frameWhere(other.client, (f) => f.type === "error")).toMatchObject({ code: "not_allowed", message: expect.stringContaining(`for uid ${uid}`) });
  });

  it("Should make a revoked connection leave the group but stay open for its other rooms", async () => {
    const [uid, group] = [unique("fu"), unique("fg")];
    const { client } = await envelopeSocket(uid, [group]);
    await frameWhere(client, (f) => f.type === "joined" && f.group === group);
    const revoked = await api(`/groups/${group}/members/${uid}`, { method: "DELETE" });
    expect(await revoked.json()).toMatchObject({ closed: 1 });
    expect(await frameWhere(client, (f) => f.type === "left")).toMatchObject({ group });
    expect(await push({ uid, data: "still here" })).toMatchObject({ delivered: 1 });
    expect(client.closeCode).toBeNull();
  });

  it("Should publish to a group as /ws does: every member gets {from, data}, the sender too unless echo is false", async () => {
    const [ann, bob, group] = [unique("fa"), unique("fb"), unique("fg")];
    const a = await envelopeSocket(ann, [group]);
    const b = await envelopeSocket(bob, [group]);
    await frameWhere(b.client, (f) => f.type === "joined" && f.group === group);
    a.client.send(JSON.stringify({ type: "publish", group, data: { text: "hi" } }));
    expect(await frameWhere(b.client, (f) => f.type === "push")).toMatchObject({ room: `group:${group}`, data: { from: ann, data: { text: "hi" } } });
    expect(await frameWhere(a.client, (f) => f.type === "push")).toMatchObject({ data: { from: ann } });
    b.client.send(JSON.stringify({ type: "publish", group, data: "quiet", echo: false }));
    expect(await frameWhere(a.client, (f) => f.data?.data === "quiet")).toBeTruthy();
    a.client.send(JSON.stringify({ type: "publish", group: unique("elsewhere"), data: 1 }));
    expect(await frameWhere(a.client, (f) => f.type === "error")).toMatchObject({ code: "not_allowed" });
    expect(frames(b.client).filter((f) => f.data?.data === "quiet")).toEqual([]);
  });
});

describe("GET /gateway client frames: what every connection gets", () => {
  it("Should answer a raw page's ping with pong and nothing else it sends, as GatewayWorker answered nothing", async () => {
    const uid = unique("fr");
    const { client } = await gatewayConnect(uid);
    // The seeds' pages: a chat line, a heartbeat answer, their own join (roomId, no group), text;
    // and edgepush frames it cannot take: a bad group, a group the token does not allow, a publish outside it, binary.
    for (const frame of ["not json", { type: "say", roomId: "r", content: "hi" }, { type: "pong" }, { type: "join", roomId: "r" },
      { type: "join", group: "bad name!" }, { type: "join", group: unique("no") }, { type: "publish", group: "g", data: 1 }]) {
      client.send(typeof frame === "string" ? frame : JSON.stringify(frame));
    }
    client.send(new TextEncoder().encode("binary").buffer as ArrayBuffer);
    client.send("ping");
    expect(await client.waitFor(1)).toEqual(["pong"]);
    // Every frame above was handled before the ping's answer; a push shows nothing came in between or after.
    await push({ uid, data: "payload" });
    expect(await client.waitFor(2)).toEqual(["pong", "payload"]);
    expect(client.closeCode).toBeNull();
  });

  it("Should answer an envelope connection's malformed and refused edgepush frames with an error, and frames of no edgepush type with nothing", async () => {
    const uid = unique("fe");
    const { client } = await envelopeSocket(uid);
    await frameWhere(client, (f) => f.type === "joined");
    const before = client.messages.length;
    client.send("not json");
    client.send(JSON.stringify({ type: "say", roomId: "r" }));
    client.send(JSON.stringify({ type: "join", group: "bad name!" }));
    client.send(JSON.stringify({ type: "join", group: unique("no") }));
    client.send(new TextEncoder().encode("binary").buffer as ArrayBuffer);
    client.send("ping");
    await client.waitFor(before + 4);
    expect(frames(client).slice(before).map((f) => f.code ?? f)).toEqual(["bad_frame", "not_allowed", "binary_not_supported", "pong"]);
    expect(client.closeCode).toBeNull();
  });

  it("Should never send joined or left frames to a raw connection (the seeds' pages get payloads only)", async () => {
    const [uid, group] = [unique("fr"), unique("fg")];
    const { client } = await gatewayConnect(uid, { groups: [group] });
    client.send(JSON.stringify({ type: "leave", group }));
    await eventually(async () => (await (await api(`/groups/${group}`)).json()) as { connections: number }, (g) => g.connections === 0);
    await push({ uid, data: "payload" });
    expect(await client.waitFor(1)).toEqual(["payload"]);
  });
});
