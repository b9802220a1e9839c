import { describe, expect, it } from "vitest";
import type { ListedName } from "../../src/contract/names";
import { ShardIndex, type Transition } from "../../src/directory/shard-index";

const room = (name: string) => name as ListedName;

describe("ShardIndex", () => {
  it("Should count a uid room from its reports and write its row only the first time", () => {
    const index = new ShardIndex();
    expect(index.report({ room: "uid:a", connections: 1, gateways: 0 }, 1)).toEqual([{ add: true, room: "uid:a" }]);
    expect(index.report({ room: "uid:a", connections: 2, gateways: 0 }, 2)).toEqual([]);
    expect(index.stats()).toEqual({ connections: 2, rooms: 1, groups: 0, uids: 1 });
    expect(index.listUids("", 10)).toEqual(["a"]);
  });

  it("Should count a group's sockets by uid and the group by its own entry", () => {
    const index = new ShardIndex();
    index.report({ room: "group:g", connections: 3, gateways: 0 }, 1);
    index.report({ room: "group:g", uids: { a: 2, b: 1 } }, 1);
    index.report({ room: "group:h", uids: { c: 0 } }, 1); // c only through a gateway
    expect(index.stats()).toEqual({ connections: 3, rooms: 1, groups: 1, uids: 3 });
    expect(index.listGroups("", 10)).toEqual(["g"]);
    expect(index.roomsOf("c")).toEqual(["group:h"]);
  });

  it("Should ask every name read back from storage, and a live one not heard from since a time", () => {
    const index = new ShardIndex();
    index.load([room("uid:old")], [["u", room("group:g")]]);
    index.report({ room: "uid:a", connections: 1, gateways: 0 }, 1000);
    expect(index.stale(500).sort()).toEqual(["group:g", "uid:old"]);
    expect(index.stale(2000).sort()).toEqual(["group:g", "uid:a", "uid:old"]);
    // Unknown names are not counted until a room answers.
    expect(index.stats()).toMatchObject({ rooms: 1, uids: 1 });
  });

  it("Should take a listing as the whole truth for the uids it indexes, keeping the names' rows a day", () => {
    const index = new ShardIndex();
    index.report({ room: "group:g", uids: { a: 1, b: 1 } }, 1);
    const own = (uid: string) => uid !== "x";
    expect(index.listing(room("group:g"), { connections: 1, gateways: 0, uids: { a: 1, x: 4 } }, false, own, 5)).toEqual([]);
    expect(index.roomsOf("b")).toEqual([]);
    expect(index.stats().connections).toBe(1);
    expect(index.sweep(5)).toEqual([]);
    expect(index.sweep(6)).toEqual([{ add: false, room: "group:g", uid: "b" }]);
  });

  it("Should stop pushing `all` to a room that answered it has no socket of its own", () => {
    const index = new ShardIndex();
    index.report({ room: "uid:a", connections: 1, gateways: 0 }, 1);
    index.report({ room: "uid:b", connections: 1, gateways: 0 }, 1);
    index.load([room("uid:c")], []);
    expect(index.broadcastTargets().sort()).toEqual(["uid:a", "uid:b", "uid:c"]);
    index.noSockets(room("uid:a"), 2);
    index.noSockets(room("uid:c"), 2);
    expect(index.broadcastTargets()).toEqual(["uid:b"]);
    // Still unknown: a listing asks it.
    expect(index.stale(3)).toContain("uid:c");
  });

  it("Should give up a room that hashes to another shard now", () => {
    const index = new ShardIndex();
    index.report({ room: "uid:a", connections: 1, gateways: 0 }, 1);
    index.listing(room("uid:a"), { connections: 1, gateways: 0, uids: { a: 1 } }, false, () => false, 2);
    expect(index.stats()).toEqual({ connections: 0, rooms: 0, groups: 0, uids: 0 });
  });

  it("Should, with exact rows (webhooks), drop a row as its name goes and tell every transition", () => {
    const index = new ShardIndex(true);
    const seen: Transition[] = [];
    index.onTransition = (t) => seen.push(t);
    index.load([room("uid:z")], []);
    index.report({ room: "uid:a", connections: 1, gateways: 0 }, 1);
    expect(index.report({ room: "uid:a", connections: 0, gateways: 0 }, 2)).toEqual([{ add: false, room: "uid:a" }]);
    // A name read back from storage counts as there: it goes when the room says so.
    index.listing(room("uid:z"), { connections: 0, gateways: 0, uids: {} }, true, () => true, 3);
    expect(seen).toEqual([{ room: "uid:a", live: true }, { room: "uid:a", live: false }, { room: "uid:z", live: false }]);
    expect(index.roomsCount("a")).toBe(0);
  });
});
