// Where the CLI finds the deployment and its secrets: flags, then the environment, then .dev.vars.
import { existsSync, readFileSync } from "node:fs";

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** A wrong invocation or a missing setting: exit code 2. */
export class UsageError extends Error {}

/**
 * The settings for one run; secrets are only required by the commands that use them.
 * @param {{ url?: string, secret?: string, "token-secret"?: string }} flags
 * @param {Record<string, string | undefined>} env
 */
export function readConfig(flags, env, devVarsPath = ".dev.vars") {
  const devVars = existsSync(devVarsPath) ? parseDevVars(readFileSync(devVarsPath, "utf8")) : {};
  const url = (flags.url ?? env.EDGEPUSH_URL ?? DEFAULT_URL).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url / EDGEPUSH_URL: expected http(s)://host[:port], got ${url}`);
  return {
    url,
    pushSecret: flags.secret ?? (env.PUSH_SECRET || undefined) ?? devVars.PUSH_SECRET,
    tokenSecret: flags["token-secret"] ?? (env.TOKEN_SECRET || undefined) ?? devVars.TOKEN_SECRET,
  };
}

/** The push secret, or a UsageError that says where to put it. */
export function requirePushSecret(config) {
  if (config.pushSecret) return config.pushSecret;
  throw new UsageError(
    "PUSH_SECRET is not set: export PUSH_SECRET, pass --secret, or run from the project folder where `npm start` created .dev.vars",
  );
}

/** `KEY=value` lines of a `.dev.vars` file; `#` comments and surrounding quotes are dropped. */
export function parseDevVars(text) {
  const vars = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trimStart().startsWith("#")) continue;
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    const quoted = /^(["'])(.*)\1$/.exec(match[2]);
    vars[match[1]] = quoted ? quoted[2] : match[2];
  }
  return vars;
}
