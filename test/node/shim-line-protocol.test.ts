import { describe, expect, it } from "vitest";
import { parseDevVars } from "../../shim/config";
import { checkLine, judgeAnswer, judgeResult } from "../../shim/line-protocol";
import { Lane, MAX_BATCH_MESSAGES, nextGroupSize, type Line, type Sender } from "../../shim/lane";
import { LineSplitter } from "../../shim/line-splitter";
import { ReplyQueue } from "../../shim/reply-queue";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("LineSplitter", () => {
  it("Should join a line split across chunks, even inside a multi-byte character", () => {
    const splitter = new LineSplitter(100);
    const all = bytes('{"uid":"u1","t":"☃"}\n');
    const events = [];
    for (let i = 0; i < all.length; i++) events.push(...splitter.push(all.subarray(i, i + 1)));
    expect(events).toEqual([{ kind: "line", text: '{"uid":"u1","t":"☃"}', bytes: 22 }]);
    expect(splitter.partialBytes).toBe(0);
  });

  it("Should cut many lines from one chunk and keep the unfinished rest", () => {
    const splitter = new LineSplitter(100);
    expect(splitter.push(bytes("a\r\nb\n\nc"))).toEqual([
      { kind: "line", text: "a", bytes: 1 },
      { kind: "line", text: "b", bytes: 1 },
      { kind: "line", text: "", bytes: 0 },
    ]);
    expect(splitter.partialBytes).toBe(1);
    expect(splitter.push(bytes("d\n"))).toEqual([{ kind: "line", text: "cd", bytes: 2 }]);
  });

  it("Should accept a line of exactly the limit, with or without \\r", () => {
    const splitter = new LineSplitter(4);
    expect(splitter.push(bytes("abcd\nabcd\r\nabcde\n"))).toEqual([
      { kind: "line", text: "abcd", bytes: 4 },
      { kind: "line", text: "abcd", bytes: 4 },
      { kind: "oversize", bytes: 5 },
    ]);
  });

  it("Should drop an oversize line as it arrives and report it once at its newline", () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push(bytes("0123456789abc"))).toEqual([]);
    expect(splitter.partialBytes).toBe(13);
    expect(splitter.push(bytes("x".repeat(1000)))).toEqual([]);
    expect(splitter.push(bytes("yz\nok\n"))).toEqual([
      { kind: "oversize", bytes: 1015 },
      { kind: "line", text: "ok", bytes: 2 },
    ]);
    expect(splitter.partialBytes).toBe(0);
  });

  it("Should report a line that is not UTF-8", () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push(new Uint8Array([0xff, 0xfe, 0x0a]))).toEqual([{ kind: "not_utf8", bytes: 2 }]);
  });
});

describe("ReplyQueue", () => {
  it("Should write answers in slot order however they settle", () => {
    const written: string[] = [];
    const queue = new ReplyQueue((text) => written.push(text));
    const [a, b, c] = [queue.reserve(), queue.reserve(), queue.reserve()];
    queue.settle(c, "3\n");
    queue.settle(b, "2\n");
    expect(written).toEqual([]);
    expect(queue.pending).toBe(3);
    queue.settle(a, "1\n");
    expect(written).toEqual(["1\n2\n3\n"]);
    expect(queue.pending).toBe(0);
  });

  it("Should refuse to settle a slot twice", () => {
    const queue = new ReplyQueue(() => {});
    const slot = queue.reserve();
    queue.settle(slot, "ok\n");
    expect(() => queue.settle(slot, "ok\n")).toThrow("not pending");
  });
});

describe("line protocol", () => {
  it("Should take a JSON object line as the body unchanged", () => {
    const text = '{"uid":"u1","url":"http:\\/\\/x"}';
    expect(checkLine(text)).toEqual({ ok: true, body: text, message: { uid: "u1", url: "http://x" } });
  });

  it("Should reject bad JSON, non-objects and empty lines with a reason", () => {
    expect(checkLine("{nope")).toMatchObject({ ok: false, reason: expect.stringContaining("not valid JSON") });
    expect(checkLine("[1]")).toMatchObject({ ok: false, reason: expect.stringContaining("not an object") });
    expect(checkLine("  ")).toEqual({ ok: false, reason: "empty line" });
  });

  it("Should call a push ok only when it reached a live connection", () => {
    expect(judgeAnswer(200, { ok: true, delivered: 2, queued: 1 })).toEqual({ ok: true });
    expect(judgeAnswer(200, { ok: true, delivered: 0, queued: 1 })).toEqual({
      ok: false,
      reason: "reached no live connection (delivered 0, queued 1)",
    });
    expect(judgeAnswer(401, { error: { code: "unauthorized", message: "wrong PUSH_SECRET" } })).toEqual({
      ok: false,
      reason: "HTTP 401 unauthorized: wrong PUSH_SECRET",
    });
    expect(judgeResult({ ok: false, error: { code: "invalid_name", message: "uid" } })).toEqual({ ok: false, reason: "invalid_name: uid" });
    expect(judgeAnswer(502, null)).toEqual({ ok: false, reason: "HTTP 502 unexpected answer from edgepush" });
  });
});

const line = (body: string): Line => ({ body, message: JSON.parse(body), bytes: body.length });

describe("Lane", () => {
  it("Should keep one call in flight and send the lines that waited together, in order", async () => {
    const calls: string[][] = [];
    let release = () => {};
    const sender: Sender = {
      one: async (l) => {
        calls.push([l.body]);
        await new Promise<void>((r) => (release = r));
        return { ok: true };
      },
      many: async (ls) => {
        calls.push(ls.map((l) => l.body));
        return ls.map((_, i) => (i === 1 ? { ok: false, reason: "offline" } : { ok: true }));
      },
    };
    const lane = new Lane(sender);
    const outcomes = ['{"uid":"a"}', '{"uid":"b"}', '{"uid":"c"}', '{"uid":"d"}'].map((b) => lane.push(line(b)));
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual([['{"uid":"a"}']]);
    release();
    expect(await Promise.all(outcomes)).toEqual([{ ok: true }, { ok: true }, { ok: false, reason: "offline" }, { ok: true }]);
    expect(calls).toEqual([['{"uid":"a"}'], ['{"uid":"b"}', '{"uid":"c"}', '{"uid":"d"}']]);
  });

  it("Should fail every line of a call that throws, and go on with the next", async () => {
    let calls = 0;
    const lane = new Lane({
      one: async () => (calls++ === 0 ? Promise.reject(new Error("refused")) : { ok: true }),
      many: async () => [],
    });
    expect(await lane.push(line('{"uid":"a"}'))).toEqual({ ok: false, reason: "refused" });
    expect(await lane.push(line('{"uid":"b"}'))).toEqual({ ok: true });
  });

  it("Should group lines up to the batch limits, escaped seed lines included", () => {
    const plain = line('{"uid":"a"}');
    const escaped = line('{"uid":"a","u":"http:\\/\\/x"}');
    expect(nextGroupSize([plain, plain, escaped, plain])).toBe(4);
    expect(nextGroupSize(Array.from({ length: MAX_BATCH_MESSAGES + 5 }, () => plain))).toBe(MAX_BATCH_MESSAGES);
    const big = { ...plain, bytes: 300 * 1024 };
    expect(nextGroupSize([big, big, big])).toBe(1);
  });
});

describe("parseDevVars", () => {
  it("Should read KEY=value lines, skipping comments and unquoting values", () => {
    const text = '# local\nPUSH_SECRET="abc=def"\r\nTOKEN_SECRET=xyz\n  # PUSH_SECRET=old\nexport EXTRA=\'1\'\n';
    expect(parseDevVars(text)).toEqual({ PUSH_SECRET: "abc=def", TOKEN_SECRET: "xyz", EXTRA: "1" });
  });
});
