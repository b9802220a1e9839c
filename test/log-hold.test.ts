/**
 * A push to a room with gateway subscribers holds its log writes until the gateways answered
 * (RoomLog.hold): what the room knows must not change by it, only when storage hears of it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { OutboundMessage } from "../src/contract/protocol";
import { QUEUE, RoomLog } from "../src/room/log";
import { connect, push, receivedBefore } from "./helpers";
import { gatewayConnect } from "./gateway-helpers";
import { unique } from "./presence-helpers";

const message = (id: string): OutboundMessage => ({ id, dataJson: `"${id}"`, raw: `"${id}"`, ts: 1 });
const logged = { key: "order-1", expires: Date.now() + 60_000, queue: QUEUE.none };

/** Runs `body` on a RoomLog of a fresh room's storage; `rows` counts what storage holds. */
function withLog<T>(body: (log: RoomLog, rows: () => number) => T): Promise<T> {
  return runInDurableObject(env.ROOMS.getByName(unique("group:hold")), (_instance, state) => {
    const sql = state.storage.sql;
    const log = new RoomLog(sql, { maxRows: 100, maxBytes: 1 << 20 });
    const rows = () => (sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'log'").toArray().length === 0
      ? 0 : sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM log").one().n);
    return body(log, rows);
  });
}

describe("RoomLog.hold", () => {
  it("Should keep held rows out of storage until release, while the id and the seq count at once", async () => {
    const seen = await withLog((log, rows) => {
      log.hold();
      const seq = log.nextSeq();
      log.append(seq, message("m1"), Date.now(), logged);
      const held = { rows: rows(), duplicate: log.seenBefore("order-1", Date.now()), next: log.nextSeq() };
      log.release();
      return { ...held, released: rows() };
    });
    expect(seen).toEqual({ rows: 0, duplicate: true, next: 2, released: 1 });
  });

  it("Should write the held rows before a read, so a replay finds them", async () => {
    const replayed = await withLog((log, rows) => {
      log.hold();
      log.append(log.nextSeq(), message("m1"), Date.now(), logged);
      const since = log.since(0, Date.now()).map((r) => r.message.id);
      const after = rows();
      log.release();
      return { since, after };
    });
    expect(replayed).toEqual({ since: ["m1"], after: 1 });
  });
});

/** Like withLog, on a SqlStorage whose next `INSERT INTO log` throws once `failNext()` is called. */
function withFailingLog<T>(body: (log: RoomLog, failNext: () => void, rows: () => number) => T): Promise<T> {
  return runInDurableObject(env.ROOMS.getByName(unique("group:hold-fail")), (_instance, state) => {
    const real = state.storage.sql;
    let fail = false;
    const exec = (query: string, ...args: SqlStorageValue[]) => {
      if (fail && query.startsWith("INSERT INTO log")) {
        fail = false;
        throw new Error("SQLITE_FULL: database or disk is full");
      }
      return real.exec(query, ...args);
    };
    const sql = { exec, get databaseSize() { return real.databaseSize; } } as unknown as SqlStorage;
    const rows = () => real.exec<{ n: number }>("SELECT COUNT(*) AS n FROM log").one().n;
    return body(new RoomLog(sql, { maxRows: 100, maxBytes: 1 << 20 }), () => (fail = true), rows);
  });
}

describe("RoomLog.hold when a held write fails", () => {
  it("Should rethrow, keep the other held writes, never hand out a seq twice, and write at once again", async () => {
    const seen = await withFailingLog((log, failNext, rows) => {
      const now = Date.now();
      for (const id of ["a", "b", "c"]) log.append(log.nextSeq(), message(id), now, { ...logged, key: `k-${id}` });
      log.hold();
      failNext();
      const failed = log.nextSeq();
      log.append(failed, message("d"), now, { ...logged, key: "k-d" });
      const liveOnly = log.nextSeq();
      log.saveSeq();
      let error = "";
      try {
        log.release();
      } catch (err) {
        error = String(err);
      }
      const next = log.nextSeq();
      log.append(next, message("p"), now, { ...logged, key: "k-p" });
      return { failed, liveOnly, error, next, rows: rows() };
    });
    // Before: the seq fell back to 4 (already sent to sockets), and `p` stayed held, unstored.
    expect(seen).toEqual({ failed: 4, liveOnly: 5, error: expect.stringContaining("SQLITE_FULL"), next: 6, rows: 4 });
  });
});

describe("POST /push to a uid held by a gateway connection", () => {
  it("Should answer all but one of concurrent pushes with one id duplicate, and deliver it once", async () => {
    const uid = unique("hold-dup");
    const { client, clientId } = await gatewayConnect(uid);
    const answers = await Promise.all(Array.from({ length: 5 }, () => push({ uid, id: "same", data: "once" })));
    expect(answers.filter((a) => a.duplicate !== true)).toEqual([{ ok: true, id: "same", delivered: 1, queued: 1 }]);
    expect(await receivedBefore(client, { clientId })).toEqual(["once"]);
  });

  it("Should log what reached the gateway connection for a /ws client resuming with since", async () => {
    const uid = unique("hold-log");
    await gatewayConnect(uid);
    for (const data of ["a", "b", "c"]) expect(await push({ uid, data })).toMatchObject({ delivered: 1, queued: 1 });
    const { client, init } = await connect(uid, { extra: "since=0" });
    const got = (await receivedBefore(client, init)).map((m) => JSON.parse(m));
    expect(got.map((f) => [f.seq, f.data])).toEqual([[1, "a"], [2, "b"], [3, "c"]]);
  });
});
