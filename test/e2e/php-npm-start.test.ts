import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { delimiter, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run, seedClient, until, type SeedClient } from "./php-helpers";
import { freePort } from "./wrangler-dev";

let start: ChildProcess | undefined;
let client: SeedClient | undefined;
afterAll(() => {
  client?.close();
  if (start?.exitCode === null) start.kill("SIGTERM");
});

function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => (socket.destroy(), done(true)));
    socket.once("error", () => done(false));
  });
}

describe("npm start", () => {
  it("Should run wrangler dev and the shim together, say where each listens, and stop both on Ctrl-C", async () => {
    // What `npm start` runs before start.mjs: creates .dev.vars (the shared secrets) when missing.
    expect(spawnSync("node", ["scripts/setup.mjs"]).status).toBe(0);
    const [port, shimPort] = [await freePort(), await freePort()];
    start = spawn("node", ["scripts/start.mjs"], {
      env: {
        ...process.env,
        PATH: `${resolve("node_modules/.bin")}${delimiter}${process.env.PATH}`,
        PORT: String(port),
        SHIM_PORT: String(shimPort),
        // Both sides must take PUSH_SECRET from .dev.vars, as on a developer's machine.
        PUSH_SECRET: "",
      },
    });
    let output = "";
    start.stdout!.on("data", (d) => (output += d));
    start.stderr!.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((done) => start!.on("exit", (code) => done(code)));

    await until(
      () => (output.includes(`shim on tcp://127.0.0.1:${shimPort} → http://127.0.0.1:${port}/push`) ? true : undefined),
      () => `the shim's start-up line in:\n${output}`,
    );
    expect(output).toContain(`[edgepush] wrangler dev on http://127.0.0.1:${port} (WebSockets at ws://127.0.0.1:${port}/ws)`);
    await until(async () => ((await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok ? true : undefined), () => `wrangler dev:\n${output}`);

    // The seed's browser code with the new URL, and the seed's backend code with not a byte changed
    // but the port this test was given.
    client = await seedClient(`ws://127.0.0.1:${port}`, "start-uid");
    const snippet = `$client = stream_socket_client('tcp://127.0.0.1:${shimPort}', $errno, $errmsg, 1);
$data = array('uid'=>'start-uid', 'percent'=>'88%');
fwrite($client, json_encode($data)."\\n");
echo fread($client, 8192);`;
    // Until the uid frame reached its room the answer is fail, as in the seed.
    await until(async () => ((await run("php", ["-r", snippet])).stdout === "ok\n" ? true : undefined), () => `ok from the shim:\n${output}`);
    expect(await until(() => client!.messages[0], () => "the pushed line")).toBe('{"uid":"start-uid","percent":"88%"}');

    start.kill("SIGINT");
    expect(await exited).toBe(0);
    await until(async () => (!(await listening(port)) && !(await listening(shimPort)) ? true : undefined), () => "both ports to close");
  });
});
