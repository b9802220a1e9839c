import { describe, expect, it } from "vitest";
import { LogIndex, type IndexEntry } from "../../src/room/log-index";

const entry = (key: string, seq: number, keep: number, extra: Partial<IndexEntry> = {}): IndexEntry =>
  ({ key, seq, keep, bytes: 10, message: true, queued: false, ...extra });

describe("LogIndex", () => {
  it("Should take back the seq and the queue's watermark from the rows and the meta values", () => {
    const index = LogIndex.from([entry("s:3", 3, 0, { taken: true }), entry("s:5", 5, 0, { queued: true })], 4, 2);
    expect(index).toMatchObject({ lastSeq: 5, storedSeq: 5, taken: 3 });
    expect(LogIndex.from([], 7, 0).lastSeq).toBe(7);
    expect(index.hasQueued()).toBe(true);
  });

  it("Should offer a row past its time to the next message, and none while every row is kept", () => {
    const index = LogIndex.from([entry("s:1", 1, 100), entry("i:x", 2, 500)], 0, 0);
    expect(index.reusable("s:3", 50, false)).toBeNull();
    expect(index.reusable("s:3", 200, false)).toEqual({ entry: expect.objectContaining({ key: "s:1" }), guarded: false });
    // A repeat of a key whose window is over takes that very row.
    expect(index.reusable("i:x", 600, false)).toEqual({ entry: expect.objectContaining({ key: "i:x" }), guarded: false });
  });

  it("Should, when the log is full, overwrite the oldest message unless it still guards its id", () => {
    const full = LogIndex.from([entry("s:1", 1, 100), entry("s:2", 2, 100)], 0, 0);
    expect(full.reusable("s:3", 50, true)).toEqual({ entry: expect.objectContaining({ key: "s:1" }), guarded: false });
    const guarding = LogIndex.from([entry("i:a", 1, 100), entry("s:2", 2, 100)], 0, 0);
    expect(guarding.reusable("s:3", 50, true)).toEqual({ entry: expect.objectContaining({ key: "i:a" }), guarded: true });
  });

  it("Should keep messages in seq order with their bytes, and drop a tombstone from the bounds", () => {
    const index = LogIndex.from([entry("s:2", 2, 9), entry("s:1", 1, 9)], 0, 0);
    expect(index.oldestMessage()?.key).toBe("s:1");
    index.tombstone(index.oldestMessage()!);
    expect([index.messages, index.bytes]).toEqual([1, 10]);
    index.replace(index.byKey.get("s:2")!, entry("s:3", 3, 9));
    expect([index.messages, index.lastSeq, index.byKey.has("s:2")]).toEqual([1, 3, false]);
  });

  it("Should say the watermark is unsaved only while queued rows lie between storage's and memory's", () => {
    const index = LogIndex.from([entry("s:1", 1, 9, { queued: true })], 0, 0);
    expect(index.takenUnsaved()).toBe(false);
    index.taken = 1;
    expect(index.takenUnsaved()).toBe(true);
    index.takenStored = 1;
    expect(index.takenUnsaved()).toBe(false);
  });
});
