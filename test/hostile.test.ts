import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { api, connect, push } from "./helpers";

describe("Hostile input", () => {
  it("Should answer any JSON body to /push with 200, 400 or 413 and a JSON body, never 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }),
          fc.record({ uid: fc.string(), data: fc.jsonValue() }, { requiredKeys: [] }),
          fc.record({ group: fc.string(), exclude: fc.array(fc.string()), ttl: fc.integer(), id: fc.string(), data: fc.jsonValue() }, { requiredKeys: [] }),
          fc.array(fc.record({ uids: fc.array(fc.string()), clientId: fc.string(), data: fc.jsonValue() }, { requiredKeys: [] }), { maxLength: 5 }),
        ),
        async (body) => {
          const res = await api("/push", { json: body });
          expect([200, 400, 413]).toContain(res.status);
          const answer = (await res.json()) as any;
          if (res.status !== 200) expect(typeof answer.error.code).toBe("string");
        },
      ),
      { numRuns: 150 },
    );
  });

  it("Should answer any text body with 400 bad_json or a valid answer", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const res = await api("/push", { method: "POST", body: text, headers: { "Content-Type": "application/json" } });
        expect([200, 400, 413]).toContain(res.status);
        await res.json();
      }),
      { numRuns: 100 },
    );
  });

  it("Should refuse a body that is not UTF-8 with 400 bad_json, with or without a Content-Length", async () => {
    const prefix = new TextEncoder().encode('{"uid":"utf8-probe","data":"');
    const body = new Uint8Array([...prefix, 0xff, 0xfe, 0x22, 0x7d]); // "…\xff\xfe"}
    const sized = await api("/push", { method: "POST", body, headers: { "Content-Type": "application/json" } });
    const stream = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(body), c.close()) });
    const chunked = await api("/push", { method: "POST", body: stream, headers: { "Content-Type": "application/json" } });
    for (const res of [sized, chunked]) {
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "bad_json", message: "body is not valid UTF-8" } });
    }
    expect((await (await api("/online/utf8-probe")).json()) as object).toMatchObject({ online: false });
  });

  it("Should answer any client frame with an error frame or pong and keep the socket usable", async () => {
    const { client } = await connect("fuzz-frames", { groups: ["fuzz"], group: "fuzz" });
    const sent = fc.sample(fc.oneof(fc.string({ maxLength: 300 }), fc.json()), 60)
      .filter((t) => !t.startsWith('{"type":"publish"') && t.length > 0);
    for (const text of sent) client.send(text);
    await client.waitFor(sent.length, 10_000);
    for (const message of client.messages) {
      if (message === "pong") continue;
      expect(JSON.parse(message)).toMatchObject({ type: "error" });
    }
    expect(client.closeCode).toBeNull();
    expect((await push({ group: "fuzz", data: "alive" })).delivered).toBe(1);
  });

  it("Should accept a frame exactly at the size limit and close one byte over it", async () => {
    const limit = 65536;
    const frame = JSON.stringify({ type: "publish", data: "" });
    const at = JSON.stringify({ type: "publish", data: "x".repeat(limit - frame.length) });
    expect(at.length).toBe(limit);
    const { client } = await connect("edge-framer", { groups: ["edge"], group: "edge" });
    client.send(at);
    expect((await client.json(0)).type).toBe("push");
    client.send(at.replace('"x', '"xx'));
    expect(await client.closed()).toBe(1009);
  });

  it("Should accept a payload exactly at MAX_PAYLOAD_BYTES and refuse one byte more", async () => {
    const at = "é".repeat(65536 / 2); // counted in UTF-8 bytes as a raw client receives them
    expect((await api("/push", { json: { uid: "edge-payload", data: at } })).status).toBe(200);
    const over = await api("/push", { json: { uid: "edge-payload", data: `${at}x` } });
    expect(over.status).toBe(413);
  });
});
