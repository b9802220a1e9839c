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
}

export type IncomingFrame = InitFrame | PushFrame | JoinFrame | ErrorFrame;

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
      return typeof frame.seq === "number" && typeof frame.clientId === "string" ? (frame as unknown as InitFrame) : null;
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
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp : null;
  } catch {
    return null;
  }
}
