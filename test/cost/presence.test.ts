/**
 * Presence with the production defaults (PRESENCE_CHECK_S = 60): closes are not reported, so a
 * listing asks rooms it has not heard from in 60 s. Time is moved by ageing the shard's memory
 * of when it last heard from each room, as 61 s passing would.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { shardName, shardOf } from "../../src/directory/config";
import { api, connect } from "../helpers";

interface Stats {
  connections: number;
  rooms: number;
  uids: number;
  groups: number;
}
const stats = async (): Promise<Stats> => (await api("/stats")).json();
const uids = async (): Promise<string[]> => ((await (await api("/uids")).json()) as { uids: string[] }).uids;
const shardOf16 = (uid: string) => env.DIRECTORY.getByName(shardName(shardOf(`uid:${uid}`, 16)));

/** As if `ms` had passed since the shard last heard from each of its rooms. */
function age(uid: string, ms: number): Promise<void> {
  return runInDurableObject(shardOf16(uid), (instance: unknown) => {
    const index = (instance as { index: { rooms: Map<string, { heard: number }> } }).index;
    for (const entry of index.rooms.values()) entry.heard -= ms;
  });
}

describe("Presence with PRESENCE_CHECK_S at its default", () => {
  it("Should count a connection at once, and a close once 60 s passed without the room being heard from", async () => {
    const before = await stats();
    const { client } = await connect("presence-close");
    expect(await stats()).toMatchObject({ connections: before.connections + 1, uids: before.uids + 1 });
    client.close();
    await client.closed();
    await age("presence-close", 59_000);
    expect((await stats()).connections).toBe(before.connections + 1);
    await age("presence-close", 2_000);
    expect(await stats()).toEqual(before);
    expect(await uids()).not.toContain("presence-close");
    expect(await (await api("/online/presence-close")).json()).toMatchObject({ online: false });
  });

  it("Should not count a room that crashed with its sockets once 60 s passed", async () => {
    const before = await stats();
    const { client } = await connect("presence-crash");
    await evictDurableObject(env.ROOMS.getByName("uid:presence-crash"), { webSockets: "close" });
    await client.closed();
    await age("presence-crash", 61_000);
    expect(await stats()).toEqual(before);
  });

  it("Should list nothing of a previous run after a restart (shard and rooms restarted without their sockets)", async () => {
    const { client } = await connect("presence-restart");
    expect(await uids()).toContain("presence-restart");
    await evictDurableObject(env.ROOMS.getByName("uid:presence-restart"), { webSockets: "close" });
    await client.closed();
    // A restarted shard reads back names only: it asks their rooms before it lists them.
    await evictDurableObject(shardOf16("presence-restart"));
    expect(await uids()).not.toContain("presence-restart");
  });
});
