/** Shim settings from flags, then the environment, then `.dev.vars` (the Worker's local secrets). */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ShimOptions } from "./server";

/** 1 MiB of body (the Worker's MAX_BODY_BYTES default) plus room, so the Worker's limit decides. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024 + 1024;

export const USAGE = `usage: tsx shim/index.ts [--host H] [--port P] [--url URL] [--secret S] [--max-line-bytes N] [--batch-ms N] [--wait S]

  --host            SHIM_HOST            listen address          (127.0.0.1)
  --port            SHIM_PORT            listen port             (5678)
  --url             EDGEPUSH_URL         edgepush base URL       (http://127.0.0.1:8787)
  --secret          PUSH_SECRET          backend credential      (else PUSH_SECRET in .dev.vars)
  --max-line-bytes  SHIM_MAX_LINE_BYTES  longest line accepted   (${DEFAULT_MAX_LINE_BYTES})
  --batch-ms        SHIM_BATCH_MS        coalesce lines arriving within N ms into batch calls (0 = off)
  --wait            SHIM_WAIT_S          at start, wait up to S s for edgepush to accept the secret (30; 0 = no check)`;

export interface ShimConfig {
  options: Omit<ShimOptions, "log">;
  /** Where the secret came from, for the start-up line (never the secret itself). */
  secretSource: string;
  /** Seconds to wait at start for edgepush to accept the secret; 0 skips the check. */
  waitS: number;
}

/** A setting that cannot work; the message names what to set. */
export class ConfigError extends Error {}

/**
 * Reads the configuration; throws ConfigError naming the flag or variable to fix.
 * @example readConfig(process.argv.slice(2), process.env, ".dev.vars")
 */
export function readConfig(argv: string[], env: NodeJS.ProcessEnv, devVarsPath = ".dev.vars"): ShimConfig {
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        url: { type: "string" },
        secret: { type: "string" },
        "max-line-bytes": { type: "string" },
        "batch-ms": { type: "string" },
        wait: { type: "string" },
      },
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${USAGE}`);
  }
  const setting = (flag: string, variable: string) => (flags[flag] as string | undefined) ?? env[variable];
  const url = setting("url", "EDGEPUSH_URL") ?? "http://127.0.0.1:8787";
  if (!/^https?:\/\/[^/]/.test(url)) throw new ConfigError(`--url / EDGEPUSH_URL: expected http(s)://host[:port], got ${url}`);

  let secret = setting("secret", "PUSH_SECRET");
  let secretSource = flags.secret !== undefined ? "--secret" : "environment";
  if (!secret && existsSync(devVarsPath)) {
    secret = parseDevVars(readFileSync(devVarsPath, "utf8")).PUSH_SECRET;
    secretSource = devVarsPath;
  }
  if (!secret) {
    throw new ConfigError("PUSH_SECRET is not set: add it to .dev.vars (npm start creates one), export PUSH_SECRET, or pass --secret");
  }
  return {
    secretSource,
    waitS: integer(setting("wait", "SHIM_WAIT_S"), 30, "--wait / SHIM_WAIT_S", 0, 3600),
    options: {
      host: setting("host", "SHIM_HOST") ?? "127.0.0.1",
      port: integer(setting("port", "SHIM_PORT"), 5678, "--port / SHIM_PORT", 0, 65535),
      url,
      secret,
      maxLineBytes: integer(setting("max-line-bytes", "SHIM_MAX_LINE_BYTES"), DEFAULT_MAX_LINE_BYTES, "--max-line-bytes / SHIM_MAX_LINE_BYTES", 1),
      batchMs: integer(setting("batch-ms", "SHIM_BATCH_MS"), 0, "--batch-ms / SHIM_BATCH_MS", 0, 60_000),
    },
  };
}

/** `KEY=value` lines of a `.dev.vars` file; `#` comments and surrounding quotes are dropped. */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith("#")) continue;
    const quoted = /^(["'])(.*)\1$/.exec(match[2]);
    vars[match[1]] = quoted ? quoted[2] : match[2];
  }
  return vars;
}

function integer(text: string | undefined, fallback: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}: expected an integer from ${min} to ${max}, got ${text}`);
  }
  return value;
}
