/** Helpers for presence, broadcast and control tests. */
import { env } from "cloudflare:workers";
import { api } from "./helpers";

export interface Stats {
  connections: number;
  rooms: number;
  uids: number;
  groups: number;
}

/** GET a backend endpoint that must answer 200; its JSON. */
export async function getJson(path: string): Promise<any> {
  const res = await api(path);
  const body = await res.json();
  if (res.status !== 200) throw new Error(`GET ${path} ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

export const stats = (): Promise<Stats> => getJson("/stats");

/** /stats once reports from earlier tests have landed: the same over three reads. */
export async function quietStats(): Promise<Stats> {
  let last = JSON.stringify(await stats());
  for (let same = 0; same < 2; ) {
    await new Promise((r) => setTimeout(r, 30));
    const now = JSON.stringify(await stats());
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return JSON.parse(last);
}

/** `value()` once it satisfies `ok` (reports are asynchronous); fails with the last value after `ms`. */
export async function eventually<T>(value: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let last = await value();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(last)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
    last = await value();
  }
  return last;
}

/** Waits until /stats equals `base` plus `delta`; returns it. */
export function statsBecome(base: Stats, delta: Partial<Stats>): Promise<Stats> {
  const want = {
    connections: base.connections + (delta.connections ?? 0),
    rooms: base.rooms + (delta.rooms ?? 0),
    uids: base.uids + (delta.uids ?? 0),
    groups: base.groups + (delta.groups ?? 0),
  };
  return eventually(stats, (s) => JSON.stringify(s) === JSON.stringify(want));
}

/** The Durable Object stub of a room, for eviction and alarms from cloudflare:test. */
export function roomStub(room: string) {
  return env.ROOMS.getByName(room);
}

/** A name unique to this run, so tests sharing storage never see each other's rooms. */
let counter = 0;
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${counter++}`;
}
