import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { envelope, parseClientFrame } from "../../src/contract/protocol";

describe("protocol", () => {
  it("Should splice the payload JSON into a valid envelope", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), fc.nat(), (data, id, seq) => {
        const text = envelope(seq, { id, dataJson: JSON.stringify(data), raw: "", ts: 5 });
        expect(JSON.parse(text)).toEqual({ type: "push", seq, id, data: JSON.parse(JSON.stringify(data)), ts: 5 });
      }),
    );
  });

  it("Should never throw on any client frame text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const frame = parseClientFrame(text);
        expect("error" in frame || frame.type === "publish" || frame.type === "message").toBe(true);
      }),
    );
  });

  it("Should parse an ack with a non-negative integer count and refuse any other", () => {
    expect(parseClientFrame('{"type":"ack","bytes":262144}')).toEqual({ type: "ack", bytes: 262144 });
    for (const bad of ['{"type":"ack"}', '{"type":"ack","bytes":-1}', '{"type":"ack","bytes":1.5}', '{"type":"ack","bytes":"9"}']) {
      expect(parseClientFrame(bad)).toMatchObject({ error: "bad_frame" });
    }
  });

  it("Should parse publish with echo defaulting to true", () => {
    expect(parseClientFrame('{"type":"publish","data":{"x":1}}')).toEqual({ type: "publish", data: { x: 1 }, echo: true });
    expect(parseClientFrame('{"type":"publish","data":1,"echo":false}')).toMatchObject({ echo: false });
    expect(parseClientFrame('{"type":"publish","data":1,"echo":"no"}')).toMatchObject({ error: "bad_frame" });
    expect(parseClientFrame('{"type":"publish"}')).toMatchObject({ error: "bad_frame" });
    expect(parseClientFrame("[1]")).toMatchObject({ error: "bad_frame" });
  });

  it("Should parse a message for the backend, with any data, and refuse one without data", () => {
    expect(parseClientFrame('{"type":"message","data":{"text":"hi"}}')).toEqual({ type: "message", data: { text: "hi" } });
    expect(parseClientFrame('{"type":"message","data":null}')).toEqual({ type: "message", data: null });
    expect(parseClientFrame('{"type":"message"}')).toMatchObject({ error: "bad_frame", message: "message needs data" });
  });
});
