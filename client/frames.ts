/** Frames the server sends to a client, as the client library reads them. Pure. */
import type { ErrorFrame, InitFrame, JoinFrame } from "../src/contract/protocol";

export type { ErrorFrame, InitFrame, JoinFrame };

/** `{"type":"push",…}`: one message of the room's log (the envelope format). */
export interface PushFrame {
  type: "push";
  seq: number;
  id: string;
  data: unknown;
  ts: number;
  /** On `/gateway`: the room it came from (one socket carries many). */
  room?: string;
}

/** `/gateway`'s first frame (GatewayWorker's `onConnect`). */
export interface GatewayInitFrame {
  type: "init";
  client_id: string;
}

/** `/gateway?format=envelope`: the connection now receives `room` (replayed rows follow). */
export interface JoinedFrame {
  type: "joined";
  room: string;
  seq: number;
  group?: string;
  uid?: string;
}

/** `/gateway?format=envelope`: the connection no longer receives `room`. */
export interface LeftFrame {
  type: "left";
  room: string;
}

export type IncomingFrame = InitFrame | GatewayInitFrame | PushFrame | JoinFrame | JoinedFrame | LeftFrame | ErrorFrame;

/** Parses a server text frame; null for anything the library does not act on (`pong`, junk). */
export function parseServerFrame(text: string): IncomingFrame | null {
  if (text.charCodeAt(0) !== 123 /* { */) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const frame = value as Record<string, unknown>;
  switch (frame.type) {
    case "init":
      if (typeof frame.client_id === "string") return frame as unknown as GatewayInitFrame;
      return typeof frame.seq === "number" && typeof frame.clientId === "string" ? (frame as unknown as InitFrame) : null;
    case "joined":
      return typeof frame.room === "string" && typeof frame.seq === "number" ? (frame as unknown as JoinedFrame) : null;
    case "left":
      return typeof frame.room === "string" ? (frame as unknown as LeftFrame) : null;
    case "push":
      return typeof frame.seq === "number" && typeof frame.id === "string" ? (frame as unknown as PushFrame) : null;
    case "join":
      return typeof frame.group === "string" && typeof frame.token === "string" ? (frame as unknown as JoinFrame) : null;
    case "error":
      return frame as unknown as ErrorFrame;
    default:
      return null;
  }
}

/** The `exp` claim (unix seconds) of a JWT, read without verifying it; null when unreadable. */
export function tokenExpiry(token: string): number | null {
  const exp = tokenClaims(token)?.exp;
  return typeof exp === "number" ? exp : null;
}

/** The `groups` claim of a JWT (the groups it allows), read without verifying it. */
export function tokenGroups(token: string): string[] {
  const groups = tokenClaims(token)?.groups;
  return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === "string") : [];
}

function tokenClaims(token: string): Record<string, unknown> | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const value = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
