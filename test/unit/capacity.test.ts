import { describe, expect, it } from "vitest";
import { FDS_PER_ROOM, FDS_PER_SOCKET, SocketLedger } from "../../src/room/capacity";

describe("SocketLedger", () => {
  it("Should sum the sockets rooms report and count the rooms that hold any", () => {
    const ledger = new SocketLedger();
    ledger.report("group:a", 3);
    ledger.report("uid:u1", 1);
    expect([ledger.sockets, ledger.rooms]).toEqual([4, 2]);
    expect(ledger.files()).toBe(4 * FDS_PER_SOCKET + 2 * FDS_PER_ROOM);
  });

  it("Should not drift when a room reports the same count again or after a wake", () => {
    const ledger = new SocketLedger();
    ledger.report("group:a", 3);
    ledger.report("group:a", 3);
    ledger.report("group:a", 2);
    expect(ledger.sockets).toBe(2);
    ledger.report("group:a", 0);
    expect([ledger.sockets, ledger.rooms, ledger.files()]).toEqual([0, 0, 0]);
  });

  it("Should fit a socket exactly up to the limit, counting a new room's files", () => {
    const ledger = new SocketLedger();
    ledger.report("group:a", 1);
    const used = FDS_PER_SOCKET + FDS_PER_ROOM;
    expect(ledger.fits(used + FDS_PER_SOCKET, false)).toBe(true);
    expect(ledger.fits(used + FDS_PER_SOCKET, true)).toBe(false);
    expect(ledger.fits(used + FDS_PER_SOCKET + FDS_PER_ROOM, true)).toBe(true);
    expect(ledger.fits(Infinity, true)).toBe(true);
  });
});
