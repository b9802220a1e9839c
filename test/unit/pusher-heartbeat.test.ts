import { describe, expect, it } from "vitest";
import { PONG_WAIT_MS, sweepPusher, type HeartbeatDeps } from "../../src/gateway/pusher/heartbeat";

const ACTIVITY = 120_000;

function setup(protocols: ("pusher" | "gateway")[]) {
  const sockets = protocols.map((protocol, i) => [{ id: i } as unknown as WebSocket, { protocol }] as [WebSocket, { protocol: "pusher" | "gateway" }]);
  const seen = new Map<WebSocket, number>(sockets.map(([ws]) => [ws, 0]));
  const sent: WebSocket[] = [];
  const closed: [WebSocket, number][] = [];
  const deps: HeartbeatDeps = {
    connections: { entries: () => sockets },
    lastSeen: (ws) => seen.get(ws)!,
    send: (ws) => (sent.push(ws), true),
    close: (ws, code) => void closed.push([ws, code]),
  };
  return { ws: sockets.map(([ws]) => ws), seen, sent, closed, deps, pinged: new Map<WebSocket, number>() };
}

describe("Pusher server-side heartbeat", () => {
  it("Should leave a connection heard from within the activity timeout alone", () => {
    const t = setup(["pusher"]);
    t.seen.set(t.ws[0], 100_000);
    expect(sweepPusher(t.deps, t.pinged, 150_000, ACTIVITY)).toBe(100_000 + ACTIVITY);
    expect(t.sent).toEqual([]);
  });

  it("Should ping a silent connection, then close it with 4201 when no answer came", () => {
    const t = setup(["pusher"]);
    sweepPusher(t.deps, t.pinged, ACTIVITY, ACTIVITY);
    expect(t.sent).toEqual([t.ws[0]]);
    sweepPusher(t.deps, t.pinged, ACTIVITY + PONG_WAIT_MS, ACTIVITY);
    expect(t.closed).toEqual([[t.ws[0], 4201]]);
  });

  it("Should keep a pinged connection that answered", () => {
    const t = setup(["pusher"]);
    sweepPusher(t.deps, t.pinged, ACTIVITY, ACTIVITY);
    t.seen.set(t.ws[0], ACTIVITY + 5);
    sweepPusher(t.deps, t.pinged, ACTIVITY + PONG_WAIT_MS, ACTIVITY);
    expect(t.closed).toEqual([]);
  });

  it("Should not ping GatewayWorker connections, and say there is nothing to watch", () => {
    const t = setup(["gateway"]);
    expect(sweepPusher(t.deps, t.pinged, 10 * ACTIVITY, ACTIVITY)).toBeNull();
    expect(t.sent).toEqual([]);
  });
});
