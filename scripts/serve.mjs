// `npm run serve`: the built Worker on plain `workerd serve` — self-hosting without a Cloudflare
// account. One process, Durable Objects in SQLite files under the data folder, secrets from the
// environment. Options: --port N (PORT, 8787), --ip ADDR (127.0.0.1), --data DIR (EDGEPUSH_DATA,
// ./edgepush-data), --var NAME:VALUE (repeatable), --no-build (serve the existing dist/worker.js),
// --dist DIR (where the build goes, dist).
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { DETACHED, onStopRequest, spawnGroup, stopGroups } from "./process-group.mjs";
import { readWranglerSettings, startWorkerd, writeServeConfig } from "./serve-config.mjs";
import { capacityBudget, fileLimits, superviseWorkerd } from "./serve-limits.mjs";

const SECRETS = ["PUSH_SECRET", "TOKEN_SECRET"];

// wrangler (the build, and the reader of wrangler.toml) needs Node 22; npm run puts the project's on PATH.
if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`[edgepush] serve needs Node 22 (this is ${process.version}): run it as \`npm run serve\``);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "8787" },
    ip: { type: "string", default: "127.0.0.1" },
    data: { type: "string", default: process.env.EDGEPUSH_DATA ?? "edgepush-data" },
    var: { type: "string", multiple: true, default: [] },
    "no-build": { type: "boolean", default: false },
    dist: { type: "string", default: "dist" },
  },
});

const missing = SECRETS.filter((name) => !process.env[name]);
if (missing.length > 0) {
  console.error(`[edgepush] serve needs ${missing.join(" and ")} in the environment, e.g.\n` +
    `  PUSH_SECRET=$(openssl rand -base64 32) TOKEN_SECRET=$(openssl rand -base64 32) npm run serve`);
  process.exit(1);
}

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
// From here on a stop request (Ctrl-C, SIGINT/SIGTERM to npm or to this process) ends whatever runs.
let running;
let stopping = false;
onStopRequest(async () => {
  stopping = true;
  if (running) await stopGroups([running]);
  process.exit(0);
});

if (!values["no-build"]) {
  const build = spawnGroup("wrangler", ["deploy", "--dry-run", "--outdir", values.dist], { stdio: "inherit", env: { ...env, WRANGLER_LOG: "warn" } });
  running = build;
  const code = await new Promise((done) => build.on("exit", (c) => done(c)).on("error", () => done(1)));
  if (stopping) await new Promise(() => {}); // the stop handler exits
  if (code !== 0) {
    console.error("[edgepush] the build (wrangler deploy --dry-run --outdir dist) failed; see above");
    process.exit(1);
  }
} else if (!existsSync(`${values.dist}/worker.js`)) {
  console.error(`[edgepush] ${values.dist}/worker.js is missing: run \`npm run build\` or drop --no-build`);
  process.exit(1);
}

const settings = await readWranglerSettings("wrangler.toml");
// A wrangler.toml var may be overridden by an environment variable of the same name.
const vars = Object.fromEntries(Object.keys(settings.vars).filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
for (const pair of values.var) {
  const at = pair.indexOf(":");
  if (at <= 0) throw new Error(`--var expects NAME:VALUE, got ${pair}`);
  vars[pair.slice(0, at)] = pair.slice(at + 1);
}
// The open-file limit, raised to the hard limit for workerd, is what bounds its connections.
const limits = fileLimits();
vars.FD_BUDGET = capacityBudget(limits, { ...settings.vars, ...vars });
const configPath = writeServeConfig({
  settings, workerPath: `${values.dist}/worker.js`, dataDir: values.data, port: values.port, ip: values.ip, vars, secrets: SECRETS,
});
const url = `http://${values.ip === "0.0.0.0" ? "127.0.0.1" : values.ip}:${values.port}`;
const start = () => startWorkerd(configPath, `${url}/health`, { env, detached: DETACHED, fileLimit: limits.hard, onSpawn: (c) => (running = c) });
// A workerd that exits on its own is started again; a stop request kills it (SIGKILL after 3 s:
// it waits for keep-alive clients to leave) and stops the supervisor with it.
const workerd = await superviseWorkerd(start, { stopping: () => stopping }).catch((err) => {
  console.error(`[edgepush] workerd did not start: ${err.message}`);
  process.exit(1);
});
console.log(`[edgepush] serving on http://${values.ip}:${values.port} (workerd pid ${workerd.child.pid}, data in ${values.data}/)`);
