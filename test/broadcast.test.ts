import { describe, expect, it } from "vitest";
import { api, connect, push, receivedBefore, type Client } from "./helpers";
import { eventually, getJson, unique } from "./presence-helpers";

/** Frames with message id `id` that `client` received. */
const framesWith = (client: Client, id: string) => client.messages.map((m) => JSON.parse(m)).filter((f) => f.id === id);

type Connection = Awaited<ReturnType<typeof connect>>;

/** Frames with message id `id` that `c` received before a sentinel pushed to it after them. */
const allFramesWith = async (c: Connection, id: string) =>
  (await receivedBefore(c.client, c.init)).map((m) => JSON.parse(m)).filter((f) => f.id === id);

async function spread(tag: string) {
  // 24 uid rooms (some with two sockets) and 6 group rooms (four sockets each): 4 test shards
  // with a fan-out of 3, so every shard reaches its rooms through relays.
  const clients: Connection[] = [];
  const groups = Array.from({ length: 6 }, () => unique(`${tag}-g`));
  for (let i = 0; i < 24; i++) {
    const uid = unique(`${tag}-u`);
    clients.push(await connect(uid));
    if (i % 4 === 0) clients.push(await connect(uid));
    const group = groups[i % groups.length];
    clients.push(await connect(uid, { groups: [group], group }));
  }
  return clients;
}

describe("POST /push with all", () => {
  it("Should reach every live connection across uid and group rooms exactly once", async () => {
    const clients = await spread("bc");
    expect(clients).toHaveLength(54);
    const answer = await push({ all: true, data: { hello: "everyone" } });
    // First test of the file: these are all the live connections there are (30 rooms).
    expect(answer).toMatchObject({ ok: true, delivered: clients.length, queued: 30 });
    // The answer waits for every room, so a sentinel pushed now comes after anything it sent.
    for (const connection of clients) {
      const frames = await allFramesWith(connection, answer.id);
      expect(frames).toHaveLength(1);
      expect(frames[0]).toMatchObject({ type: "push", data: { hello: "everyone" } });
    }
    for (const { client } of clients) client.close();
  });

  it("Should not deliver a repeated id again and answer duplicate", async () => {
    const dup = await connect(unique("dup"));
    const id = unique("bcast-id");
    const first = await push({ all: true, id, data: 1 });
    expect(first).toMatchObject({ ok: true, id });
    expect(first.delivered).toBeGreaterThanOrEqual(1);
    const again = await push({ all: true, id, data: 1 });
    expect(again).toMatchObject({ ok: true, id, delivered: 0, duplicate: true });
    expect(await allFramesWith(dup, id)).toHaveLength(1);
    dup.client.close();
  });

  it("Should skip excluded clients and clients that left", async () => {
    const stay = await connect(unique("keep"));
    const skip = await connect(unique("skip"));
    const gone = await connect(unique("gone"));
    gone.client.close();
    await eventually(() => getJson(`/online/${gone.init.uid}`), (o) => !o.online);
    const answer = await push({ all: true, data: "x", exclude: [skip.init.clientId] });
    await eventually(async () => framesWith(stay.client, answer.id), (f) => f.length === 1);
    expect(await allFramesWith(skip, answer.id)).toEqual([]);
    expect(framesWith(gone.client, answer.id)).toEqual([]);
    stay.client.close();
    skip.client.close();
  });

  it("Should deliver all-pushes of a batch in order next to other targets", async () => {
    const uid = unique("batch");
    const { client } = await connect(uid, { extra: "format=raw" });
    const res = await api("/push", {
      json: [{ all: true, data: "a1" }, { uid, data: "direct" }, { all: true, data: "a2" }, { all: false, data: 1 }],
    });
    const { results } = (await res.json()) as any;
    expect(results.slice(0, 3).map((r: any) => r.ok)).toEqual([true, true, true]);
    expect(results[3]).toMatchObject({ ok: false, error: { code: "bad_request" } });
    const got = await client.waitFor(3);
    expect(got.filter((m) => m !== "direct")).toEqual(["a1", "a2"]);
    client.close();
  });

  it("Should refuse all without data or with a value other than true", async () => {
    for (const body of [{ all: true }, { all: "yes", data: 1 }, { all: true, uid: "u", data: 1 }]) {
      const res = await api("/push", { json: body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe("bad_request");
    }
  });
});
