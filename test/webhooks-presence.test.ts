/** The directory's presence events on a real Durable Object's SQLite: online, debounced offline, groups, members. */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WebhookEventInput } from "../src/contract/webhooks";
import { PresenceEvents } from "../src/webhooks/presence";
import { sleep } from "./helpers";

function withPresence<T>(name: string, delayMs: number, fn: (p: PresenceEvents, events: WebhookEventInput[], alarms: number[]) => Promise<T>) {
  return runInDurableObject(env.DIRECTORY.getByName(`presence-test:${name}`), (_i, state) => {
    const events: WebhookEventInput[] = [];
    const alarms: number[] = [];
    return fn(new PresenceEvents(state.storage.sql, delayMs, (e) => events.push(...e), (at) => alarms.push(at)), events, alarms);
  });
}

describe("directory presence events", () => {
  it("Should report a uid online with its first row and each group it joins", async () => {
    await withPresence("online", 50, async (p, events) => {
      p.memberAdded("u1", "uid:u1", 1);
      p.memberAdded("u1", "group:lobby", 2);
      p.memberAdded("u1", "gw:3", 3);
      expect(events).toEqual([{ name: "uid_online", uid: "u1" }, { name: "member_added", group: "lobby", uid: "u1" }]);
    });
  });

  it("Should report offline only once the delay passed with no row back", async () => {
    await withPresence("offline", 50, async (p, events, alarms) => {
      p.memberAdded("u1", "uid:u1", 1);
      p.memberRemoved("u1", "group:lobby", 1);
      p.memberRemoved("u1", "uid:u1", 0);
      expect(events.map((e) => e.name)).toEqual(["uid_online", "member_removed"]);
      expect(alarms).toHaveLength(1);
      p.alarm(() => 0); // too early
      expect(events).toHaveLength(2);
      await sleep(60);
      p.alarm(() => 0);
      expect(events.at(-1)).toEqual({ name: "uid_offline", uid: "u1" });
      p.alarm(() => 0);
      expect(events).toHaveLength(3);
    });
  });

  it("Should send nothing for a reload: the last row goes and one comes back within the delay", async () => {
    await withPresence("reload", 50, async (p, events) => {
      p.memberAdded("u1", "uid:u1", 1);
      p.memberRemoved("u1", "uid:u1", 0);
      p.memberAdded("u1", "uid:u1", 1);
      await sleep(60);
      p.alarm(() => 1);
      expect(events).toEqual([{ name: "uid_online", uid: "u1" }]);
    });
  });

  it("Should report offline at once with a delay of 0, and group occupied and vacated", async () => {
    await withPresence("now", 0, async (p, events) => {
      p.memberRemoved("u2", "uid:u2", 0);
      p.roomChanged("group:lobby", true);
      p.roomChanged("uid:u2", true);
      p.roomChanged("group:lobby", false);
      expect(events).toEqual([
        { name: "uid_offline", uid: "u2" }, { name: "group_occupied", group: "lobby" }, { name: "group_vacated", group: "lobby" },
      ]);
    });
  });
});
