/**
 * The seeds' backend snippet (PHP) and browser code against `npm start`, run through the real npm
 * in a fresh copy of the project: its own .dev.vars, its own state, never the developer's.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { freshCopy, listening, npm, waitUntil, type NpmRun } from "./npm-process";
import { run, seedClient, until, type SeedClient } from "./php-helpers";
import { skipWithout } from "./prerequisites";
import { freePort, hasExited } from "./wrangler-dev";

let copy: string | undefined;
let start: NpmRun | undefined;
let client: SeedClient | undefined;
afterAll(() => {
  client?.close();
  if (start && !hasExited(start.child)) start.child.kill("SIGKILL");
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe.skipIf(skipWithout("php"))("npm start", () => {
  it("Should run wrangler dev and the shim together, take the seed's PHP line, and stop on SIGINT to npm", async () => {
    copy = freshCopy("edgepush-php-start-");
    const [port, shimPort] = [await freePort(), await freePort()];
    // PUSH_SECRET "" so both sides take it from the .dev.vars npm start creates, as on a developer's machine.
    // Its own debugger port too: parallel starts would race for wrangler's default 9229.
    const inspector = String(await freePort());
    start = npm(["start"], copy, { ...process.env, PORT: String(port), SHIM_PORT: String(shimPort), INSPECTOR_PORT: inspector, PUSH_SECRET: "" });
    const output = start.output;

    await until(
      () => (output().includes(`shim on tcp://127.0.0.1:${shimPort} → http://127.0.0.1:${port}/push`) ? true : undefined),
      () => `the shim's start-up line in:\n${output()}`,
    );
    const up = async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok === true;
    await waitUntil(async () => hasExited(start!.child) || (await up()), 150_000, () => `wrangler dev:\n${output()}`);
    expect(start.child.exitCode, output()).toBe(null);

    // The seed's browser code with the new URL, and the seed's backend code with not a byte changed
    // but the port this test was given.
    client = await seedClient(`ws://127.0.0.1:${port}`, "start-uid");
    const snippet = `$client = stream_socket_client('tcp://127.0.0.1:${shimPort}', $errno, $errmsg, 1);
$data = array('uid'=>'start-uid', 'percent'=>'88%');
fwrite($client, json_encode($data)."\\n");
echo fread($client, 8192);`;
    // Until the uid frame reached its room the answer is fail, as in the seed.
    await until(async () => ((await run("php", ["-r", snippet])).stdout === "ok\n" ? true : undefined), () => `ok from the shim:\n${output()}`);
    expect(await until(() => client!.messages[0], () => "the pushed line")).toBe('{"uid":"start-uid","percent":"88%"}');

    process.kill(start.child.pid!, "SIGINT");
    expect(await start.exited).toBe(0);
    await waitUntil(async () => !(await listening(port)) && !(await listening(shimPort)), 5000, () => "both ports to close");
  }, 240_000);
});
