// `npm start`: wrangler dev on the embedded local runtime plus the TCP line shim; Ctrl-C stops both.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const port = process.env.PORT ?? "8787";
const children = [];

function run(name, command, args) {
  const child = spawn(command, args, { env, stdio: ["ignore", "inherit", "inherit"] });
  child.on("error", (err) => {
    console.error(`[edgepush] could not start ${name} (${err.message}); run it through npm start`);
    stop(1);
  });
  child.on("exit", (code, signal) => {
    console.log(`[edgepush] ${name} exited (${signal ?? code}); stopping`);
    stop(code ?? 1);
  });
  children.push(child);
}

// The first reason to stop decides the exit code; the children's exits that follow do not.
let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

console.log(`[edgepush] wrangler dev on http://127.0.0.1:${port} (WebSockets at ws://127.0.0.1:${port}/ws)`);
run("wrangler dev", "wrangler", ["dev", "--ip", "127.0.0.1", "--port", port]);
if (existsSync("shim/index.ts")) {
  // Prints its own `shim on tcp://…` line; SHIM_HOST / SHIM_PORT pass through the environment.
  run("shim", "tsx", ["shim/index.ts", "--url", `http://127.0.0.1:${port}`]);
}
