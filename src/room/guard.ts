/**
 * What keeps one bad client from hurting the rest: the frame budget, the outbound bound, the
 * room's share of the process's connection capacity, and the closes that enforce them.
 */
import { ApiError } from "../contract/errors";
import { CLOSE_POLICY, CLOSE_TOO_SLOW, errorFrame } from "../contract/protocol";
import type { Limits } from "../env";
import { logEvent } from "../util/log";
import { processSockets, serverFull } from "./capacity";
import { FrameBudget } from "./frame-budget";
import { OutboundMeter } from "./outbound";
import type { SocketMap } from "./roster";
import type { SocketAttachment } from "./types";

/** How long a uid whose socket made its room reset is refused in that room. */
export const CUT_OFF_MS = 10_000;
// `room|uid` → until when it is refused. Module state outlives the reset (same isolate); it only
// forgets, never refuses wrongly, when the room comes back elsewhere.
const cutOff = new Map<string, number>();

export class SocketGuard {
  private readonly budget: FrameBudget<WebSocket>;
  private readonly outbound: OutboundMeter<WebSocket>;
  /** Sockets whose connection may still be open: ours, and ones we closed that the peer has not answered. */
  private held: number;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly sockets: SocketMap,
    private readonly limits: Limits,
    private readonly room: () => string | null,
  ) {
    this.budget = new FrameBudget({ frames: limits.clientFramesPer10s, bytes: limits.clientBytesPer10s });
    this.outbound = new OutboundMeter(limits.outboundMaxBytes);
    this.held = ctx.getWebSockets().length;
  }

  /** The 503 to refuse one more socket with when the process is at FD_BUDGET, or null. */
  capacityError(): ApiError | null {
    return processSockets.fits(this.limits.fdBudget, this.held === 0) ? null : serverFull(this.limits.fdBudget);
  }

  /** A socket was accepted (+1) or its connection ended (-1). */
  holding(delta: number): void {
    this.held = Math.max(0, this.held + delta);
    const room = this.room();
    if (room) processSockets.report(room, this.held);
  }

  /**
   * Counts a client frame before it is parsed; past the budget: one error frame, then 1008, and
   * false. Its later frames find no attachment and go to `afterClose`.
   */
  frame(ws: WebSocket, length: number, now: number): boolean {
    if (this.budget.spend(ws, length, now)) return true;
    this.refuse(ws, this.budget.describe());
    return false;
  }

  /**
   * Sends an error frame to a refused frame's sender. Past ANSWERS_PER_WINDOW of them in a window
   * the rest go unanswered (the socket stays open, as the contract has it); the frame budget, not
   * this, closes a flood.
   */
  answer(ws: WebSocket, frame: string): void {
    if (this.budget.answer(ws)) ws.send(frame);
  }

  /** The 429 for a uid this room cut off for flooding, or null. */
  cutOffError(uid: string, now: number): ApiError | null {
    const key = `${this.room()}|${uid}`;
    const until = cutOff.get(key) ?? 0;
    if (until > now) return new ApiError(429, "too_many_connections", `uid ${uid} flooded ${this.room()}; refused for ${Math.ceil((until - now) / 1000)} s more`);
    cutOff.delete(key);
    return null;
  }

  private refuse(ws: WebSocket, why: string): void {
    this.sockets.delete(ws, CLOSE_POLICY);
    try {
      ws.send(errorFrame("budget_exceeded", why));
      ws.close(CLOSE_POLICY, "frame budget exceeded");
    } catch {
      // already closing
    }
  }

  /**
   * A frame from a socket this room closed. workerd goes on delivering a peer's frames until it
   * answers the close, and one that does not read never sees it: each frame then costs the whole
   * process an event. Past FRAMES_AFTER_CLOSE the room resets itself, which drops its connections
   * (the others reconnect and resume with `since`): one room's clients pay, not everyone's.
   */
  afterClose(ws: WebSocket): void {
    if (!this.budget.ignoresClose(ws)) return;
    const uid = (ws.deserializeAttachment() as SocketAttachment | null)?.uid ?? null;
    logEvent("room_reset", { room: this.room(), uid, reason: "a closed socket kept sending frames" }, "error");
    if (uid !== null) {
      if (cutOff.size > 10_000) cutOff.clear(); // a bound, not a policy: only floods land here
      cutOff.set(`${this.room()}|${uid}`, Date.now() + CUT_OFF_MS);
    }
    // The reset drops every socket here without a close event: they leave the process's count now.
    this.holding(-this.held);
    this.ctx.abort("a closed socket kept sending frames");
  }

  /** `length` more was sent to `ws`; too far behind (room/outbound.ts) closes it with 4003. */
  sent(ws: WebSocket, length: number, now: number): void {
    if (!this.outbound.sent(ws, length, now)) return;
    logEvent("socket_too_slow", { room: this.room(), behind: this.outbound.behind(ws), limit: this.limits.outboundMaxBytes });
    this.sockets.delete(ws, CLOSE_TOO_SLOW);
    try {
      // Queued behind what it has not read yet: a client that reads again gets all of it, then this.
      ws.close(CLOSE_TOO_SLOW, "too far behind: reconnect with since");
    } catch {
      // already closing
    }
  }

  /** Counts a replayed frame without judging it: cutting a replay short would lose pending rows. */
  replayed(ws: WebSocket, length: number, now: number): void {
    this.outbound.sent(ws, length, now);
  }

  /** The client's `{"type":"ack"}`: it read `length` more. */
  acked(ws: WebSocket, length: number, now: number): void {
    this.outbound.acked(ws, length, now);
  }
}
