// First-run set-up for `npm start` / `npm test` on a fresh clone: installs packages when they are
// missing and creates .dev.vars from the example with fresh random secrets. Runs on Node 20.
import { execSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

if (!existsSync("node_modules/.bin/wrangler") || !existsSync("node_modules/.bin/node")) {
  console.log("[edgepush] installing packages (npm install) …");
  execSync("npm install --no-audit --no-fund", { stdio: "inherit" });
}

if (!existsSync(".dev.vars")) {
  const secret = () => randomBytes(32).toString("base64url");
  const text = readFileSync(".dev.vars.example", "utf8")
    .replace(/^PUSH_SECRET=.*$/m, `PUSH_SECRET=${secret()}`)
    .replace(/^TOKEN_SECRET=.*$/m, `TOKEN_SECRET=${secret()}`);
  writeFileSync(".dev.vars", text, { mode: 0o600 });
  console.log("[edgepush] created .dev.vars with fresh random PUSH_SECRET and TOKEN_SECRET");
}
