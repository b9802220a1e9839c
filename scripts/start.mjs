// `npm start`: wrangler dev on the embedded local runtime plus the TCP line shim. Ctrl-C, or
// SIGINT/SIGTERM to npm or to this process, stops both and everything they started.
// PORT (8787), SHIM_HOST/SHIM_PORT (127.0.0.1:5678), INSPECTOR_PORT (wrangler's debugger, 9229 or
// the next free one), EDGEPUSH_STATE (.wrangler/state: where the rooms' storage lives; delete the
// folder to start empty).
import { existsSync } from "node:fs";
import { busyPorts, busyPortsMessage, onStopRequest, spawnGroup, stopGroups } from "./process-group.mjs";
import { setup } from "./setup.mjs";

const port = process.env.PORT ?? "8787";
const shimHost = process.env.SHIM_HOST ?? "127.0.0.1";
const shimPort = process.env.SHIM_PORT ?? "5678";
const state = process.env.EDGEPUSH_STATE ?? ".wrangler/state";
const withShim = existsSync("shim/index.ts");

// Before anything starts (or an install replaces node_modules under a running copy).
const wanted = [{ host: "127.0.0.1", port: Number(port) }];
if (withShim) wanted.push({ host: shimHost, port: Number(shimPort) });
const busy = await busyPorts(wanted);
if (busy.length > 0) {
  console.error(busyPortsMessage(busy, "PORT=8788 SHIM_PORT=5679 npm start"));
  process.exit(1);
}
setup();

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const children = [];

function run(name, command, args) {
  const child = spawnGroup(command, args, { env, stdio: ["ignore", "inherit", "inherit"] });
  child.on("error", (err) => {
    console.error(`[edgepush] could not start ${name} (${err.message}); run it through npm start`);
    void stop(1);
  });
  child.on("exit", (code, signal) => {
    if (stopping) return;
    console.log(`[edgepush] ${name} exited (${signal ?? code}); stopping`);
    void stop(code || 1);
  });
  children.push(child);
}

// The first reason to stop decides the exit code; the children's exits that follow do not.
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  await stopGroups(children);
  process.exit(code);
}
onStopRequest(() => void stop(0));

console.log(`[edgepush] wrangler dev on http://127.0.0.1:${port} (WebSockets at ws://127.0.0.1:${port}/ws), state in ${state}/`);
// Two starts at once (parallel tests) both see 9229 free and race for it: they pass INSPECTOR_PORT.
const inspector = process.env.INSPECTOR_PORT ? ["--inspector-port", process.env.INSPECTOR_PORT] : [];
run("wrangler dev", "wrangler", ["dev", "--ip", "127.0.0.1", "--port", port, "--persist-to", state, ...inspector]);
if (withShim) {
  // Prints its own `shim on tcp://…` line. wrangler dev comes up after it: give the secret check time.
  run("shim", "tsx", ["shim/index.ts", "--url", `http://127.0.0.1:${port}`, "--host", shimHost, "--port", shimPort, "--wait", "120"]);
}
