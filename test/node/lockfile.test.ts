/**
 * package-lock.json is complete for every platform and in step with package.json, so `npm ci`
 * (what CI and a first `npm start` run) installs the same tree on Linux, macOS and Windows.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { missingOptionals, rootDrift, type Lock, type Manifest } from "./lockfile";

const manifest = JSON.parse(readFileSync("package.json", "utf8")) as Manifest;
const lockText = readFileSync("package-lock.json", "utf8");
const lock = JSON.parse(lockText) as Lock;
const WORKERD_PLATFORMS = ["darwin-64", "darwin-arm64", "linux-64", "linux-arm64", "windows-64"].map((p) => `@cloudflare/workerd-${p}`);

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** `npm ci --dry-run` in a folder holding only these two files: npm's own check that they agree. */
function npmCiDryRun(packageJson: string, lockJson: string) {
  const dir = mkdtempSync(join(tmpdir(), "edgepush-lock-"));
  dirs.push(dir);
  writeFileSync(join(dir, "package.json"), packageJson);
  writeFileSync(join(dir, "package-lock.json"), lockJson);
  return spawnSync("npm", ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, encoding: "utf8" });
}

function without(name: string): Lock {
  const copy = structuredClone(lock);
  delete copy.packages[`node_modules/${name}`];
  return copy;
}

describe("package-lock.json", () => {
  it("Should hold every optional platform package a locked package declares, workerd's five among them", () => {
    expect(Object.keys(lock.packages["node_modules/workerd"].optionalDependencies ?? {}).sort()).toEqual(WORKERD_PLATFORMS);
    expect(missingOptionals(lock)).toEqual([]);
  });

  it("Should record exactly package.json's dependencies", () => {
    expect(rootDrift(manifest, lock)).toEqual([]);
  });

  it("Should report a lock that lost a workerd platform package, and a range package.json changed", () => {
    expect(missingOptionals(without("@cloudflare/workerd-darwin-64"))).toEqual(["@cloudflare/workerd-darwin-64@1.20261102.1 (optional dependency of node_modules/workerd)"]);
    const changed = { ...manifest, devDependencies: { ...manifest.devDependencies, ws: "^9.0.0" } };
    expect(rootDrift(changed, lock)).toEqual([`devDependencies.ws: package.json ^9.0.0, lock ${manifest.devDependencies!.ws}`]);
  });

  it("Should pass npm ci --dry-run on its own, and fail it once a platform package is gone", () => {
    const ok = npmCiDryRun(JSON.stringify(manifest), lockText);
    expect({ status: ok.status, stderr: ok.status === 0 ? "" : ok.stderr }).toEqual({ status: 0, stderr: "" });
    const broken = npmCiDryRun(JSON.stringify(manifest), JSON.stringify(without("@cloudflare/workerd-windows-64")));
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toContain("Missing: @cloudflare/workerd-windows-64@1.20261102.1 from lock file");
  }, 60_000);
});
