/**
 * The GatewayWorker-mode handler against a recording host: what a raw page (the seeds') and an
 * envelope connection (the client library) are sent for each frame, and what the backend is told.
 */
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { Connections } from "../../src/gateway/connections";
import { gatewayWorkerHandler } from "../../src/gateway/gatewayworker/handler";
import type { GatewayHost } from "../../src/gateway/protocol";
import { pusherHandler } from "../../src/gateway/pusher/handler";
import type { Format } from "../../src/contract/protocol";
import type { GatewayAttachment } from "../../src/gateway/types";

function recordingHost(format: Format) {
  const sent: string[] = [];
  const told: unknown[] = [];
  const joined: string[] = [];
  const connections = new Connections([]);
  const ws = new WebSocketPair()[1];
  const attachment: GatewayAttachment = { id: "0.1234567890123456", protocol: "gateway", uid: null, format, subs: [], grants: ["allowed"], connectedAt: 0 };
  connections.add(ws, attachment);
  const host: GatewayHost = {
    env: { TOKEN_SECRET: "handler-token-secret" } as Env,
    connections,
    subscribe: async (_ws, sub) => {
      joined.push(sub.room);
      return { seq: 0 };
    },
    unsubscribe: async () => false,
    bind: async () => {},
    clientEvent: async () => {},
    tellBackend: (_ws, data) => void told.push(data),
    send: (_ws, text) => (sent.push(text), true),
    // As the gateway does within its answer cap: the handler's own refusal frame, if any.
    refuse: (_ws, a, code, message) => {
      const frame = gatewayWorkerHandler.refusal(a, code, message);
      if (frame !== null) sent.push(frame);
    },
    closeSocket: () => {},
  };
  const receive = async (...texts: string[]) => {
    for (const text of texts) await gatewayWorkerHandler.message(host, ws, attachment, text);
  };
  return { sent, told, joined, attachment, receive };
}

// What the seeds' pages send (the chat page's join carries roomId, not group), and edgepush frames it refuses.
const PAGE_FRAMES = [
  "hello",
  JSON.stringify({ type: "say", roomId: "r1", content: "hi" }),
  JSON.stringify({ type: "pong" }),
  JSON.stringify({ type: "join", roomId: "r1", userName: "Ann" }),
  JSON.stringify({ type: "join", group: "not-granted" }),
  JSON.stringify({ type: "publish", group: "allowed", data: 1 }),
];

describe("GatewayWorker-mode handler: frames edgepush does not take", () => {
  it("Should send a raw page nothing for them and hand each to the backend whole, as GatewayWorker's onMessage got it", async () => {
    const page = recordingHost("raw");
    await page.receive(...PAGE_FRAMES, JSON.stringify({ type: "message", data: "for the backend" }));
    expect(page.sent).toEqual([]);
    expect(page.told).toEqual([...PAGE_FRAMES.slice(0, 1), ...PAGE_FRAMES.slice(1).map((f) => JSON.parse(f)), "for the backend"]);
    expect(page.joined).toEqual([]);
  });

  it("Should still answer ping and take a raw page's well-formed join of a granted group", async () => {
    const page = recordingHost("raw");
    await page.receive("ping", JSON.stringify({ type: "join", group: "allowed" }));
    expect(page.sent).toEqual(["pong"]);
    expect(page.joined).toEqual(["group:allowed"]);
    expect(page.told).toEqual([]);
  });

  it("Should hand an envelope connection's frames of no edgepush type to the backend, and tell it why its own frames were refused", async () => {
    const client = recordingHost("envelope");
    await client.receive(...PAGE_FRAMES);
    expect(client.told).toEqual([PAGE_FRAMES[0], JSON.parse(PAGE_FRAMES[1]), JSON.parse(PAGE_FRAMES[2])]);
    expect(client.sent.map((f) => JSON.parse(f))).toEqual([
      { type: "error", code: "bad_frame", message: expect.stringContaining("group") },
      { type: "error", code: "not_allowed", message: expect.stringContaining("not-granted") },
      { type: "error", code: "not_allowed", message: expect.stringContaining("bound to a uid") },
    ]);
  });

  it("Should word the gateway's own refusals (frame budget, binary) in each connection's protocol", () => {
    const { attachment } = recordingHost("raw");
    expect(gatewayWorkerHandler.refusal(attachment, "budget_exceeded", "too many")).toBeNull();
    expect(JSON.parse(gatewayWorkerHandler.refusal({ ...attachment, format: "envelope" }, "budget_exceeded", "too many")!))
      .toEqual({ type: "error", code: "budget_exceeded", message: "too many" });
    expect(JSON.parse(pusherHandler.refusal({ ...attachment, protocol: "pusher" }, "binary_not_supported", "send text frames")!))
      .toEqual({ event: "pusher:error", data: { code: null, message: "send text frames" } });
  });
});
