/** Backend-call plumbing shared by the routes: auth and bounded JSON bodies. */
import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import { ApiError } from "../contract/errors";
import { requireSecret, type Env } from "../env";
import { readBodyText } from "./body";

export type AppContext = Context<{ Bindings: Env }>;

/**
 * `Authorization: Bearer <PUSH_SECRET>`, compared in constant time. hono/bearer-auth answers a
 * malformed header with 400; the contract wants 401 for every missing or wrong credential.
 */
export const backendAuth: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const secret = requireSecret(c.env, "PUSH_SECRET");
  // Required likewise: a deployment that cannot sign or check client tokens is not half-working.
  requireSecret(c.env, "TOKEN_SECRET");
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) throw new ApiError(401, "unauthorized", "missing Authorization: Bearer <PUSH_SECRET>");
  if (!(await sameSecret(match[1].trim(), secret))) {
    throw new ApiError(401, "unauthorized", "wrong PUSH_SECRET");
  }
  await next();
};

// The secret's digest, kept per isolate: a request hashes only the credential it brought.
let known: { secret: string; digest: Promise<ArrayBuffer> } | null = null;
const encoder = new TextEncoder();

// SHA-256 both sides, then compare the fixed-length digests in constant time: neither the
// secret's content nor its length shows in the timing. (hono's timingSafeEqual hashes both
// sides per call and compares hex strings in JS: about a tenth of a push's CPU.)
async function sameSecret(given: string, secret: string): Promise<boolean> {
  if (known?.secret !== secret) known = { secret, digest: crypto.subtle.digest("SHA-256", encoder.encode(secret)) };
  const [a, b] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(given)), known.digest]);
  return crypto.subtle.timingSafeEqual(a, b);
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Reads a JSON body of at most `maxBytes`; returns the parsed value and the exact text. */
export async function readJsonBody(c: AppContext, maxBytes: number): Promise<{ value: unknown; text: string }> {
  requireJsonType(c);
  const text = await readBodyText(c.req.raw, maxBytes);
  return { value: parseJsonText(text), text };
}

/** A Content-Type other than JSON (none is fine) is a 415, as for every backend call. */
export function requireJsonType(c: AppContext): void {
  const type = c.req.header("Content-Type");
  if (type !== undefined && type !== "" && !JSON_TYPE.test(type)) {
    throw new ApiError(415, "unsupported_media_type", `send application/json, not ${type}`);
  }
}

/** Parses a body's text; empty or broken JSON is a 400 `bad_json`. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === "") throw new ApiError(400, "bad_json", "empty body: send a JSON object");
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "bad_json", "body is not valid JSON");
  }
}

/** The body's exact text, at most `maxBytes` (src/api/body.ts): for checks that cover the bytes as sent (Pusher's `body_md5`). */
export { readBodyText } from "./body";

/** Largest body a control call (token, grant, kick …) may send. */
const CONTROL_BODY_BYTES = 64 * 1024;

/** Parses a control body with `schema`; a shape error names the field. */
export async function controlBody<T extends z.ZodType>(c: AppContext, schema: T): Promise<z.infer<T>> {
  const { value } = await readJsonBody(c, CONTROL_BODY_BYTES);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError(400, "bad_request", `${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  return parsed.data;
}
