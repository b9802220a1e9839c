// The self-hosted mode's plumbing: reads wrangler.toml, writes a workerd config (from
// serve.capnp.template) into the data folder, and starts plain `workerd serve` on it.
// Used by `npm run serve` (scripts/serve.mjs) and by the benchmark (bench/). Runs on Node 22.
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), "serve.capnp.template");

/**
 * What `serve` needs from a wrangler config: DO classes (SQLite-backed per its migrations),
 * vars, compatibility settings and the static assets folder.
 * @example const settings = await readWranglerSettings("wrangler.toml")
 * @param {string} configPath
 * @returns {Promise<ServeSettings>}
 */
export async function readWranglerSettings(configPath) {
  // wrangler's own reader, so every TOML/JSONC form it accepts works here too.
  const wrangler = await import("wrangler");
  const { rawConfig } = wrangler.experimental_readRawConfig({ config: configPath });
  const sqlite = wrangler.unstable_getDurableObjectClassNameToUseSQLiteMap(rawConfig.migrations ?? []);
  const bindings = rawConfig.durable_objects?.bindings ?? [];
  const foreign = bindings.filter((b) => b.script_name);
  if (foreign.length > 0) {
    throw new Error(`serve runs one Worker: DO bindings to other scripts are not supported (${foreign.map((b) => b.name).join(", ")})`);
  }
  return {
    name: rawConfig.name ?? "worker",
    compatibilityDate: rawConfig.compatibility_date,
    compatibilityFlags: rawConfig.compatibility_flags ?? [],
    durableObjects: bindings.map((b) => ({ binding: b.name, className: b.class_name, sql: sqlite.get(b.class_name) === true })),
    vars: rawConfig.vars ?? {},
    assetsDir: rawConfig.assets?.directory ? resolve(dirname(configPath), rawConfig.assets.directory) : undefined,
  };
}

/**
 * @typedef {{ binding: string, className: string, sql: boolean }} DurableObjectSetting
 * @typedef {{ name: string, compatibilityDate: string, compatibilityFlags: string[],
 *   durableObjects: DurableObjectSetting[], vars: Record<string, unknown>, assetsDir?: string }} ServeSettings
 */

/**
 * Writes `<dataDir>/workerd.capnp` (and the assets entry module when there are assets) and
 * returns its path. `secrets` are names read from the environment by workerd at start-up, so
 * their values never touch the disk.
 * @example writeServeConfig({ settings, workerPath: "dist/worker.js", dataDir: "edgepush-data", port: 8787 })
 * @param {{ settings: ServeSettings, workerPath: string, dataDir: string, port: number | string, ip?: string,
 *   vars?: Record<string, string>, secrets?: string[] }} options
 * @returns {string}
 */
export function writeServeConfig({ settings, workerPath, dataDir, port, ip = "127.0.0.1", vars = {}, secrets = [] }) {
  const dir = resolve(dataDir);
  const storage = join(dir, "do");
  mkdirSync(storage, { recursive: true });
  const configPath = join(dir, "workerd.capnp");
  const embedPath = (file) => relative(dir, resolve(file)).split(sep).join("/");

  const modules = [];
  const services = [];
  const bindings = [];
  const assets = settings.assetsDir ? listAssets(settings.assetsDir) : [];
  if (assets.length > 0) {
    writeFileSync(join(dir, "entry.js"), assetsEntry(assets));
    modules.push(`(name = "entry.js", esModule = embed "entry.js")`);
    services.push(`(name = "assets", disk = (path = ${text(settings.assetsDir)}))`);
    bindings.push(`(name = "__SERVE_ASSETS", service = "assets")`);
  }
  modules.push(`(name = "worker.js", esModule = embed ${text(embedPath(workerPath))})`);
  for (const d of settings.durableObjects) bindings.push(`(name = ${text(d.binding)}, durableObjectNamespace = ${text(d.className)})`);
  for (const [name, value] of Object.entries({ ...settings.vars, ...vars })) {
    bindings.push(typeof value === "string" ? `(name = ${text(name)}, text = ${text(value)})` : `(name = ${text(name)}, json = ${text(JSON.stringify(value))})`);
  }
  for (const name of secrets) bindings.push(`(name = ${text(name)}, fromEnvironment = ${text(name)})`);
  // Distinct classes only: two bindings may share one class.
  const classes = [...new Map(settings.durableObjects.map((d) => [d.className, d])).values()];
  const namespaces = classes.map((d) =>
    `(className = ${text(d.className)}, uniqueKey = ${text(`${settings.name}-${d.className}`)}, enableSql = ${d.sql})`);

  const fill = {
    STORAGE_DIR: text(storage),
    EXTRA_SERVICES: indent(services, 4),
    ADDRESS: text(`${ip}:${port}`),
    COMPATIBILITY_DATE: text(settings.compatibilityDate),
    COMPATIBILITY_FLAGS: settings.compatibilityFlags.map(text).join(", "),
    MODULES: indent(modules, 4),
    BINDINGS: indent(bindings, 4),
    DURABLE_OBJECTS: indent(namespaces, 4),
  };
  const config = readFileSync(TEMPLATE, "utf8").replace(/\{\{(\w+)\}\}/g, (_, key) => fill[key]);
  writeFileSync(configPath, config);
  return configPath;
}

/**
 * Starts `workerd serve` on a config; resolves once it answers HTTP on `url`.
 * @example const child = await startWorkerd("edgepush-data/workerd.capnp", "http://127.0.0.1:8787/health")
 * @param {string} configPath
 * @param {string} healthUrl
 * `detached` puts workerd in a process group of its own (see process-group.mjs); `onSpawn` gets the
 * child at once, so a caller can stop it while it is still coming up. `fileLimit` sets its
 * open-file limit first (`ulimit -n` in a shell that then execs workerd, so the pid is workerd's):
 * Node itself cannot.
 * @param {{ env?: NodeJS.ProcessEnv, stdio?: import("node:child_process").IOType | import("node:stream").Stream,
 *   detached?: boolean, onSpawn?: (child: import("node:child_process").ChildProcess) => void, fileLimit?: number }} [options]
 * @returns {Promise<import("node:child_process").ChildProcess>}
 */
export async function startWorkerd(configPath, healthUrl, { env = process.env, stdio = "inherit", detached = false, onSpawn, fileLimit } = {}) {
  const [command, args] = fileLimit === undefined
    ? [workerdBinary(), ["serve", configPath]]
    : ["sh", ["-c", 'ulimit -n "$0" && exec "$1" serve "$2"', String(fileLimit), workerdBinary(), configPath]];
  const child = spawn(command, args, { env, stdio: ["ignore", stdio, stdio], detached });
  onSpawn?.(child);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`workerd exited with ${child.exitCode ?? child.signalCode} before serving`);
    try {
      await fetch(healthUrl);
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`workerd did not answer ${healthUrl} in 30 s`);
}

/** The workerd binary of the `workerd` npm package (the one wrangler uses too). */
export function workerdBinary() {
  return createRequire(import.meta.url)("workerd").default;
}

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json", ".svg": "image/svg+xml",
  ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain; charset=utf-8", ".wasm": "application/wasm",
};

// Every file under `root` as [url path, file path, content type]; `/x/index.html` also answers `/x/`.
function listAssets(root) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith(".")) continue;
      const file = join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else {
        const path = `/${relative(root, file).split(sep).join("/")}`;
        const type = TYPES[extname(name)] ?? "application/octet-stream";
        out.push([path, path, type]);
        if (name === "index.html") out.push([path.slice(0, -"index.html".length), path, type]);
      }
    }
  };
  walk(root);
  return out;
}

// Like wrangler's [assets]: a GET for a file in the folder is answered from it before the Worker
// runs; everything else (the API) goes to the Worker untouched, in the same isolate.
function assetsEntry(assets) {
  return `// Generated by scripts/serve-config.mjs: static assets first, then the Worker.
import worker from "./worker.js";
export * from "./worker.js";
const FILES = new Map(${JSON.stringify(assets.map(([path, file, type]) => [path, [file, type]]))});
export default {
  async fetch(request, env, ctx) {
    if (request.method === "GET" || request.method === "HEAD") {
      const file = FILES.get(new URL(request.url).pathname);
      if (file) {
        const res = await env.__SERVE_ASSETS.fetch(new URL(file[0], "http://assets"), { method: request.method });
        if (res.ok) return new Response(res.body, { headers: { "Content-Type": file[1], "Cache-Control": "public, max-age=0, must-revalidate" } });
      }
    }
    return worker.fetch(request, env, ctx);
  },
};
`;
}

// A capnp text literal.
function text(value) {
  return JSON.stringify(String(value));
}

function indent(lines, spaces) {
  return lines.map((line) => `${" ".repeat(spaces)}${line},`).join("\n");
}
