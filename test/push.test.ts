import { describe, expect, it } from "vitest";
import { api, connect, push, receivedBefore } from "./helpers";
import { eventually, getJson } from "./presence-helpers";

describe("POST /push to a uid", () => {
  it("Should deliver an envelope to every socket of the uid", async () => {
    const a = await connect("alice");
    const b = await connect("alice");
    const answer = await push({ uid: "alice", data: { hello: 1 } });
    expect(answer).toMatchObject({ ok: true, delivered: 2, queued: 1 });
    expect(typeof answer.id).toBe("string");
    for (const { client } of [a, b]) {
      const frame = await client.json(0);
      expect(frame).toMatchObject({ type: "push", id: answer.id, data: { hello: 1 } });
      expect(frame.seq).toBeGreaterThan(0);
      expect(typeof frame.ts).toBe("number");
    }
  });

  it("Should send the init frame first with the room's last seq", async () => {
    await push({ uid: "init-user", data: "x", ttl: 0 });
    const { init } = await connect("init-user");
    expect(init).toMatchObject({ type: "init", uid: "init-user", room: "uid:init-user", seq: 1 });
    expect(typeof init.clientId).toBe("string");
  });

  it("Should send a raw socket the payload text byte for byte", async () => {
    const { client } = await connect("raw-user", { extra: "format=raw" });
    await push({ uid: "raw-user", data: "plain text ☃" });
    await push({ uid: "raw-user", data: { a: [1, 2] } });
    expect(await client.waitFor(2)).toEqual(["plain text ☃", '{"a":[1,2]}']);
  });

  it("Should push a seed body without data as the body text itself", async () => {
    const raw = await connect("uid1", { extra: "format=raw" });
    const env = await connect("uid1");
    const body = '{"uid":"uid1","percent":"88%"}';
    const res = await api("/push", { method: "POST", body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, delivered: 2 });
    expect(await raw.client.waitFor(1)).toEqual([body]);
    expect((await env.client.json(0)).data).toEqual({ uid: "uid1", percent: "88%" });
  });

  it("Should keep a push to an offline uid for its next connection, and a ttl 0 push for nobody", async () => {
    expect(await push({ uid: "nobody-home", data: "kept" })).toMatchObject({ delivered: 0, queued: 1 });
    expect(await push({ uid: "nobody-live", data: "live only", ttl: 0 })).toMatchObject({ delivered: 0, queued: 0 });
    // `queued` is the answer's word for it; the stored message is what counts.
    const home = await connect("nobody-home");
    expect((await receivedBefore(home.client, home.init)).map((m) => JSON.parse(m).data)).toEqual(["kept"]);
    const live = await connect("nobody-live");
    expect(await receivedBefore(live.client, live.init)).toEqual([]);
  });

  it("Should deliver to several uids at once", async () => {
    const a = await connect("many-a");
    const b = await connect("many-b");
    expect(await push({ uids: ["many-a", "many-b", "many-c"], data: 7 })).toMatchObject({ delivered: 2, queued: 3 });
    expect((await a.client.json(0)).data).toBe(7);
    expect((await b.client.json(0)).data).toBe(7);
  });
});

describe("POST /push to a group or a client", () => {
  it("Should reach every socket of the group except the excluded clientIds", async () => {
    const groups = ["room1"];
    const a = await connect("ga", { groups, group: "room1" });
    const b = await connect("gb", { groups, group: "room1" });
    const answer = await push({ group: "room1", data: "hi", exclude: [b.init.clientId] });
    expect(answer).toMatchObject({ delivered: 1, queued: 1 });
    expect((await a.client.json(0)).data).toBe("hi");
    expect(await receivedBefore(b.client, b.init)).toEqual([]);
  });

  it("Should reach several groups", async () => {
    const a = await connect("x", { groups: ["gx", "gy"], group: "gx" });
    const b = await connect("y", { groups: ["gx", "gy"], group: "gy" });
    expect(await push({ groups: ["gx", "gy"], data: 1 })).toMatchObject({ delivered: 2, queued: 2 });
    await a.client.waitFor(1);
    await b.client.waitFor(1);
  });

  it("Should reach exactly one connection by clientId", async () => {
    const a = await connect("cid");
    const b = await connect("cid");
    expect(await push({ clientId: a.init.clientId, data: "only you" })).toMatchObject({ delivered: 1, queued: 0 });
    expect((await a.client.json(0)).data).toBe("only you");
    expect(await receivedBefore(b.client, b.init)).toEqual([]);
  });

  it("Should answer delivered 0 for a clientId that is gone", async () => {
    const a = await connect("gone");
    a.client.close();
    await eventually(() => getJson("/online/gone"), (o) => !o.online);
    expect(await push({ clientId: a.init.clientId, data: 1 })).toMatchObject({ delivered: 0 });
  });
});

describe("Payloads byte for byte", () => {
  it("Should pass data on exactly as written: key order, number spelling, whitespace", async () => {
    const raw = await connect("exact-raw", { extra: "format=raw" });
    const env = await connect("exact-env");
    const data = '{"b":1,"2":2, "n": 1.50, "big": 12345678901234567890, "e": 1e400, "z": -0}';
    const res = await api("/push", { method: "POST", body: `{"uid":"exact-raw","data":${data}}`, headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(200);
    expect(await raw.client.waitFor(1)).toEqual([data]);
    await api("/push", { method: "POST", body: `{"data":${data},"uid":"exact-env"}` });
    expect(await env.client.waitFor(1)).toEqual([expect.stringContaining(`"data":${data},"ts":`)]);
  });

  it("Should keep each batch item's exact text, seed lines included", async () => {
    const { client } = await connect("exact-batch", { extra: "format=raw" });
    const seed = '{"uid":"exact-batch","url":"http:\\/\\/x","name":"\\u00e9"}';
    const body = `[{"uid":"exact-batch","data":[1.0, 2]}, ${seed}]`;
    expect((await api("/push", { method: "POST", body })).status).toBe(200);
    expect(await client.waitFor(2)).toEqual(["[1.0, 2]", seed]);
  });

  it("Should count the payload as the bytes a raw client receives", async () => {
    expect((await api("/push", { json: { uid: "count", data: "x".repeat(65536) } })).status).toBe(200);
    expect((await api("/push", { json: { uid: "count", data: "x".repeat(65537) } })).status).toBe(413);
    expect((await api("/push", { json: { uid: "count", data: '"'.repeat(40_000) } })).status).toBe(200);
  });

  it("Should refuse a string with a lone surrogate instead of cutting raw clients off", async () => {
    const res = await api("/push", { method: "POST", body: '{"uid":"lone","data":"a\\ud800b"}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("bad_request");
  });

  it("Should judge a seed line by its uid alone, PHP integer ids included", async () => {
    const { client } = await connect("42", { extra: "format=raw" });
    const line = '{"uid":42,"id":5,"group":"chat","msg":"x"}';
    expect(await (await api("/push", { method: "POST", body: line })).json()).toMatchObject({ ok: true, delivered: 1 });
    expect(await client.waitFor(1)).toEqual([line]);
  });
});

describe("POST /push errors", () => {
  const cases: [string, RequestInit, number, string][] = [
    ["no credential", { method: "POST", body: "{}", headers: { Authorization: "" } }, 401, "unauthorized"],
    ["a wrong secret", { method: "POST", body: "{}", headers: { Authorization: "Bearer nope" } }, 401, "unauthorized"],
    ["a Basic credential", { method: "POST", body: "{}", headers: { Authorization: "Basic abc" } }, 401, "unauthorized"],
    ["bad JSON", { method: "POST", body: "{nope" }, 400, "bad_json"],
    ["form data", { method: "POST", body: "a=b", headers: { "Content-Type": "application/x-www-form-urlencoded" } }, 415, "unsupported_media_type"],
    ["text/plain", { method: "POST", body: "{}", headers: { "Content-Type": "text/plain" } }, 415, "unsupported_media_type"],
    ["no target", { method: "POST", body: '{"data":1}' }, 400, "bad_request"],
    ["two targets", { method: "POST", body: '{"uid":"a","group":"b","data":1}' }, 400, "bad_request"],
    ["a bad uid", { method: "POST", body: '{"uid":"a b","data":1}' }, 400, "invalid_name"],
    ["a too long group", { method: "POST", body: JSON.stringify({ group: "g".repeat(129), data: 1 }) }, 400, "invalid_name"],
    ["a uid that is a number", { method: "POST", body: '{"uid":5,"data":1}' }, 400, "bad_request"],
    ["a group without data", { method: "POST", body: '{"group":"g"}' }, 400, "bad_request"],
    ["a negative ttl", { method: "POST", body: '{"uid":"a","data":1,"ttl":-1}' }, 400, "bad_request"],
    ["an unknown clientId", { method: "POST", body: '{"clientId":"not-a-client","data":1}' }, 400, "invalid_name"],
    ["a payload over 64 KiB", { method: "POST", body: JSON.stringify({ uid: "a", data: "x".repeat(70_000) }) }, 413, "too_large"],
    ["a body over 1 MiB", { method: "POST", body: JSON.stringify([{ uid: "a", data: "x".repeat(1_100_000) }]) }, 413, "too_large"],
    ["an empty batch", { method: "POST", body: "[]" }, 400, "bad_request"],
  ];
  for (const [what, init, status, code] of cases) {
    it(`Should answer ${status} ${code} for ${what}`, async () => {
      const res = await api("/push", init);
      expect(res.status).toBe(status);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe("string");
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|stack/);
    });
  }

  it("Should name the field that is wrong", async () => {
    const res = await api("/push", { json: { uids: ["ok", 3], data: 1 } });
    expect(((await res.json()) as any).error.message).toMatch(/^uids\.1/);
  });
});

describe("Batch pushes", () => {
  it("Should answer one result per message in order, failing only the bad ones", async () => {
    const a = await connect("batch-a");
    const res = await api("/push", {
      json: [{ uid: "batch-a", data: 1 }, { uid: "bad name", data: 2 }, { uid: "batch-a", data: 3 }, { uid: "batch-a" , percent: "9%" }],
    });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as any;
    expect(results).toHaveLength(4);
    expect(results[0]).toMatchObject({ ok: true, delivered: 1 });
    expect(results[1]).toMatchObject({ ok: false, error: { code: "invalid_name" } });
    expect(results[2]).toMatchObject({ ok: true, delivered: 1 });
    const frames = await a.client.waitFor(3);
    expect(frames.map((f) => JSON.parse(f).data)).toEqual([1, 3, { uid: "batch-a", percent: "9%" }]);
  });

  it("Should refuse a batch of more than 1000", async () => {
    const res = await api("/push", { json: Array.from({ length: 1001 }, () => ({ uid: "a", data: 1 })) });
    expect(res.status).toBe(400);
  });
});
