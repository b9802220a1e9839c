/**
 * What a gateway lets in: an upgrade the Worker forwarded (its protocol, the shard's capacity, the
 * new connection's attachment) and each client frame (the frame budget, then size, then text).
 */
import { ApiError } from "../contract/errors";
import { newGatewayClientId, type GatewayName } from "../contract/names";
import { CLOSE_POLICY, CLOSE_TOO_BIG, type ClientErrorCode } from "../contract/protocol";
import type { Limits } from "../env";
import type { FrameBudget } from "../room/frame-budget";
import { logEvent } from "../util/log";
import { utf8Length } from "../util/text";
import { HANDLERS, type Send } from "./fan-out";
import { GATEWAY_HEADER, type GatewayAttachment, type GatewayProtocol } from "./types";

/** A forwarded upgrade's new connection, before it is accepted; throws the ApiError to answer. */
export interface Admitted {
  attachment: GatewayAttachment;
  /** The token's groups (joined at connect unless the client asked otherwise). */
  groups: string[];
  autojoin: boolean;
  uid: string | null;
  /** Envelope connections (the client library) resume their uid room like a `/ws` socket. */
  replay?: { since: number | null };
}

export function admitUpgrade(headers: Headers, gateway: GatewayName, held: number, limits: Limits): Admitted {
  const protocol = headers.get(GATEWAY_HEADER.protocol) as GatewayProtocol | null;
  if (protocol !== "pusher" && protocol !== "gateway") throw new ApiError(400, "bad_request", "not a gateway upgrade");
  if (held >= limits.maxSocketsPerRoom) {
    throw new ApiError(503, "room_full", `gateway ${gateway} holds MAX_SOCKETS_PER_ROOM (${limits.maxSocketsPerRoom}) sockets`);
  }
  const groups = parseGroups(headers.get(GATEWAY_HEADER.groups));
  const attachment: GatewayAttachment = {
    id: newGatewayClientId(Number(gateway.slice(3))),
    protocol,
    uid: null,
    format: headers.get(GATEWAY_HEADER.format) === "envelope" ? "envelope" : "raw",
    subs: [],
    connectedAt: Date.now(),
  };
  if (protocol === "gateway" && groups.length > 0) attachment.grants = groups;
  const since = headers.get(GATEWAY_HEADER.since);
  const admitted: Admitted = { attachment, groups, autojoin: headers.get(GATEWAY_HEADER.autojoin) !== "0", uid: headers.get(GATEWAY_HEADER.uid) };
  if (attachment.format === "envelope") admitted.replay = { since: since === null ? null : Number(since) };
  return admitted;
}

export interface FrameGate {
  budget: FrameBudget<WebSocket>;
  maxFrameBytes: number;
  send: Send;
  closeSocket(ws: WebSocket, code: number, reason: string): void;
}

/**
 * Counts a client frame and judges it before any handler sees it: past the budget one refusal and
 * a 1008, over MAX_FRAME_BYTES a 1009, binary refused. Returns the text to handle, or null.
 */
export function admitFrame(gate: FrameGate, ws: WebSocket, attachment: GatewayAttachment, message: string | ArrayBuffer, now: number): string | null {
  // Before anything else: a flood costs a lookup per frame, one answer, then a 1008.
  const length = typeof message === "string" ? message.length : message.byteLength;
  if (!gate.budget.spend(ws, length, now)) {
    tellRefused(gate.send, ws, attachment, "budget_exceeded", gate.budget.describe());
    gate.closeSocket(ws, CLOSE_POLICY, "over the frame budget");
    return null;
  }
  const size = typeof message === "string" ? utf8Length(message) : message.byteLength;
  if (size > gate.maxFrameBytes) {
    gate.closeSocket(ws, CLOSE_TOO_BIG, `frame over MAX_FRAME_BYTES (${gate.maxFrameBytes})`);
    return null;
  }
  if (typeof message !== "string") {
    refuseFrame(gate, ws, attachment, "binary_not_supported", "send text frames");
    return null;
  }
  return message;
}

/**
 * Refuses a frame `ws` sent (after `admitFrame` counted it): its first ANSWERS_PER_WINDOW refusals
 * of a window are told (or, on a raw page, logged); the rest go unanswered, so a client that keeps
 * sending frames edgepush refuses costs a bounded number of sends and log lines.
 */
export function refuseFrame(gate: FrameGate, ws: WebSocket, attachment: GatewayAttachment, code: ClientErrorCode, message: string): void {
  if (gate.budget.answer(ws)) tellRefused(gate.send, ws, attachment, code, message);
}

/** The groups a connection is joined to, for webhooks. */
export function groupsOf(attachment: GatewayAttachment): string[] {
  return attachment.subs.filter((s) => s.room.startsWith("group:")).map((s) => s.room.slice("group:".length));
}

/** A refusal in the connection's protocol (Pusher's `pusher:error`, edgepush's error frame), or a log line for a raw page. */
function tellRefused(send: Send, ws: WebSocket, attachment: GatewayAttachment, code: ClientErrorCode, message: string): void {
  const frame = HANDLERS[attachment.protocol].refusal(attachment, code, message);
  if (frame !== null) send(ws, frame);
  else logEvent("gateway_frame_refused", { client_id: attachment.id, code, message });
}

function parseGroups(header: string | null): string[] {
  if (!header) return [];
  const value = JSON.parse(header) as unknown;
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === "string") : [];
}
