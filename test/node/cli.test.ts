/** `npx edgepush …` (cli/edgepush.mjs) as a user runs it, against a real `wrangler dev`: output, stderr and exit codes. */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, freePort, startWranglerDev, type DevServer } from "../e2e/wrangler-dev";
import { openClient } from "./sdk-helpers";

const CLI = resolve("cli/edgepush.mjs");
let server: DevServer;
// No .dev.vars here unless a test writes one: the CLI reads it from the current folder.
const workdir = mkdtempSync(join(tmpdir(), "edgepush-cli-"));

beforeAll(async () => {
  server = await startWranglerDev();
});
afterAll(async () => {
  await server?.stop();
  rmSync(workdir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `node` (default: the Node running the tests) and only the given environment. */
function edgepush(args: string[], env: Record<string, string> = {}, options: { node?: string; stdin?: string; cwd?: string } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(options.node ?? process.execPath, [CLI, ...args], { cwd: options.cwd ?? workdir, env: { PATH: process.env.PATH ?? "", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}

const backend = () => ({ EDGEPUSH_URL: server.url, PUSH_SECRET: E2E_PUSH_SECRET, TOKEN_SECRET: E2E_TOKEN_SECRET });

/** A connected client of `uid`, past its init frame. */
async function client(uid: string, group?: string) {
  const { stdout } = await edgepush(["token", "--uid", uid, ...(group ? ["--groups", group] : [])], backend());
  const c = await openClient(`${server.wsUrl}/ws?token=${stdout.trim()}${group ? `&group=${group}` : ""}`);
  await c.next(1);
  return c;
}

/** The Node running the tests (22) and the first `node` on PATH outside node_modules (20 on CI), with versions. */
function nodes(): [string, string][] {
  const found = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.includes("node_modules"))
    .map((dir) => join(dir, "node"))
    .filter((path) => existsSync(path));
  return [...new Set([process.execPath, ...found.slice(0, 1)])].map((node) => [execFileSync(node, ["--version"]).toString().trim(), node]);
}

describe("edgepush CLI", () => {
  it.each(nodes())("Should print a token the server accepts, on Node %s", async (_version, node) => {
    const run = await edgepush(["token", "--uid", "cli-u1", "--groups", "cli-g1", "--ttl", "600"], backend(), { node });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const token = run.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const c = await openClient(`${server.wsUrl}/ws?token=${token}&group=cli-g1`);
    expect(await c.json(0)).toMatchObject({ type: "init", uid: "cli-u1", room: "group:cli-g1" });
    c.ws.close();
  });

  it("Should mint the token through POST /token when only PUSH_SECRET is set, and print JSON with --json", async () => {
    const run = await edgepush(["token", "--uid", "cli-u2", "--json"], { EDGEPUSH_URL: server.url, PUSH_SECRET: E2E_PUSH_SECRET });
    expect(run.code).toBe(0);
    const { token, expiresAt } = JSON.parse(run.stdout);
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000 + 3500);
    const c = await openClient(`${server.wsUrl}/ws?token=${token}`);
    expect(await c.json(0)).toMatchObject({ type: "init", uid: "cli-u2" });
    c.ws.close();
  });

  it("Should read the secrets from .dev.vars in the current folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edgepush-cli-vars-"));
    writeFileSync(join(dir, ".dev.vars"), `# local\nPUSH_SECRET="${E2E_PUSH_SECRET}"\nTOKEN_SECRET=${E2E_TOKEN_SECRET}\n`);
    const run = await edgepush(["online", "cli-nobody"], { EDGEPUSH_URL: server.url }, { cwd: dir });
    rmSync(dir, { recursive: true, force: true });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(run.stdout)).toEqual({ uid: "cli-nobody", online: false, connections: 0 });
  });

  it("Should push to a uid and print the answer", async () => {
    const c = await client("cli-push");
    const run = await edgepush(["push", "--uid", "cli-push", '{"hello":1}'], backend());
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, delivered: 1, queued: 1 });
    expect(await c.json(1)).toMatchObject({ type: "push", data: { hello: 1 } });
    c.ws.close();
  });

  it("Should push to a group, to everyone, and read DATA from stdin with -", async () => {
    const c = await client("cli-member", "cli-room");
    expect((await edgepush(["push", "--group", "cli-room", '"to the room"'], backend())).code).toBe(0);
    expect((await c.json(1)).data).toBe("to the room");
    const all = await edgepush(["push", "--all", "--ttl", "0", "-"], backend(), { stdin: '{"notice":"all"}' });
    expect(all.code).toBe(0);
    expect((await c.json(2)).data).toEqual({ notice: "all" });
    c.ws.close();
  });

  it("Should print presence with online and group, and totals with stats", async () => {
    // The client is in the group only: /online counts the uid's own room, so it is not "online".
    const c = await client("cli-here", "cli-presence");
    expect(JSON.parse((await edgepush(["online", "cli-here"], backend())).stdout)).toEqual({ uid: "cli-here", online: false, connections: 0 });
    expect(JSON.parse((await edgepush(["group", "cli-presence"], backend())).stdout)).toEqual({ group: "cli-presence", connections: 1, uids: ["cli-here"] });
    const stats = await edgepush(["stats"], backend());
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual({ connections: expect.any(Number), rooms: expect.any(Number), uids: expect.any(Number), groups: expect.any(Number) });
    expect(JSON.parse(stats.stdout).connections).toBeGreaterThanOrEqual(1);
    c.ws.close();
  });

  it("Should list online uids and live groups with uids and groups", async () => {
    const c = await client("cli-listed", "cli-listed-room");
    const first = await edgepush(["uids", "--limit", "1"], backend());
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ uids: [expect.any(String)], cursor: expect.any(String) });
    const groups = await edgepush(["groups"], backend());
    expect(JSON.parse(groups.stdout).groups).toContain("cli-listed-room");
    c.ws.close();
  });

  it("Should kick a uid and close its socket with 4000", async () => {
    const c = await client("cli-kicked");
    const run = await edgepush(["kick", "--uid", "cli-kicked", "--reason", "bye"], backend());
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ ok: true, uid: "cli-kicked", closed: 1 });
    expect(await c.closed()).toBe(4000);
  });

  it("Should exit 1 with the contract's error on stderr for a wrong secret (401)", async () => {
    const run = await edgepush(["stats"], { EDGEPUSH_URL: server.url, PUSH_SECRET: "wrong" });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^edgepush: 401 unauthorized: wrong PUSH_SECRET/);
    expect(run.stderr).toMatch(/hint: .*PUSH_SECRET/);
  });

  it("Should exit 1 for an invalid name (400) and an oversized payload (413)", async () => {
    const bad = await edgepush(["push", "--uid", "no spaces", "1"], backend());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/400 invalid_name: uid/);
    const big = await edgepush(["push", "--uid", "cli-big", "-"], backend(), { stdin: JSON.stringify("x".repeat(70 * 1024)) });
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/413 too_large/);
  });

  it("Should exit 1 and say how to fix it when the server cannot be reached", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await edgepush(["online", "u1"], { EDGEPUSH_URL: url, PUSH_SECRET: "s" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`could not reach ${url} (ECONNREFUSED)`);
    expect(run.stderr).toMatch(/npm start/);
  });

  it.each([
    [["frobnicate"], /unknown command "frobnicate"/],
    [[], /no command given/],
    [["push", "--uid", "a", "--group", "b", "1"], /exactly one target/],
    [["push", "--uid", "a", "{not json"], /DATA must be JSON/],
    [["push", "--uid", "a"], /expected DATA/],
    [["token", "--groups", "g"], /--uid is required/],
    [["token", "--uid", "a", "--ttl", "soon"], /--ttl: expected an integer/],
    [["online", "u1", "--nope"], /Unknown option '--nope'/],
  ])("Should exit 2 with a usage error for %j", async (args, message) => {
    const run = await edgepush(args, backend());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/npx edgepush --help/);
  });

  it("Should exit 2 naming PUSH_SECRET when no secret is set anywhere", async () => {
    const run = await edgepush(["stats"], { EDGEPUSH_URL: server.url });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/PUSH_SECRET is not set: export PUSH_SECRET, pass --secret/);
  });

  it("Should print the usage and exit 0 for --help", async () => {
    const run = await edgepush(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: edgepush <command>/);
    expect(run.stdout).toMatch(/exit codes: 0 ok, 1 .*, 2 usage/);
  });
});
