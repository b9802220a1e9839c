// First-run set-up for `npm start` / `npm test` on a fresh clone: installs packages when they are
// missing and creates .dev.vars from the example with fresh random secrets. Runs on Node 20.
import { execSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/** Installs from package-lock.json when node_modules is incomplete, and writes .dev.vars when missing. */
export function setup() {
  if (!existsSync("node_modules/.bin/wrangler") || !existsSync("node_modules/.bin/node")) {
    // `npm ci`, never `npm install`: it installs exactly the lock and never rewrites the tracked file.
    console.log("[edgepush] installing packages (npm ci) …");
    execSync("npm ci --no-audit --no-fund", { stdio: "inherit" });
  }
  const secret = () => randomBytes(32).toString("base64url");
  if (!existsSync(".dev.vars")) {
    const text = readFileSync(".dev.vars.example", "utf8")
      .replace(/^PUSH_SECRET=.*$/m, `PUSH_SECRET=${secret()}`)
      .replace(/^TOKEN_SECRET=.*$/m, `TOKEN_SECRET=${secret()}`);
    writeFileSync(".dev.vars", text, { mode: 0o600 });
    console.log("[edgepush] created .dev.vars with fresh random PUSH_SECRET and TOKEN_SECRET");
  }

  // The Pusher app (pusher-js, Laravel Echo, Pusher server SDKs): added to a .dev.vars made before it existed too.
  const vars = readFileSync(".dev.vars", "utf8");
  if (!/^PUSHER_APP_KEY=/m.test(vars)) {
    const app = [
      "# The Pusher Channels app of this deployment (GET /app/<key>, REST /apps/<id>/…).",
      `PUSHER_APP_ID=${100000 + randomBytes(3).readUIntBE(0, 3) % 900000}`,
      `PUSHER_APP_KEY=${randomBytes(10).toString("hex")}`,
      `PUSHER_APP_SECRET=${randomBytes(20).toString("hex")}`,
    ];
    writeFileSync(".dev.vars", `${vars.replace(/\n?$/, "\n")}${app.join("\n")}\n`, { mode: 0o600 });
    console.log("[edgepush] added a random Pusher app (PUSHER_APP_ID, PUSHER_APP_KEY, PUSHER_APP_SECRET) to .dev.vars");
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) setup();
