/** Checks of package-lock.json against package.json that need no network. Pure: data in, problems out. */

export interface Lock {
  packages: Record<string, { name?: string; version?: string; integrity?: string; link?: boolean; optionalDependencies?: Record<string, string> } & Record<string, unknown>>;
}

export interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const KINDS = ["dependencies", "devDependencies", "optionalDependencies"] as const;

/**
 * Optional dependencies (platform binaries: workerd's, esbuild's …) that the lock does not hold,
 * as `name@range (optional dependency of path)`. npm resolves each like `require`: the package's
 * own node_modules first, then each folder above it.
 */
export function missingOptionals(lock: Lock): string[] {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
      if (!resolves(lock, path, name)) missing.push(`${name}@${range} (optional dependency of ${path || "the project"})`);
    }
  }
  return missing;
}

function resolves(lock: Lock, from: string, name: string): boolean {
  let dir = from;
  for (;;) {
    const entry = lock.packages[`${dir ? `${dir}/` : ""}node_modules/${name}`];
    if (entry && (entry.version || entry.link) && (entry.integrity || entry.link)) return true;
    if (!dir) return false;
    const up = dir.lastIndexOf("/node_modules/");
    dir = up < 0 ? "" : dir.slice(0, up);
  }
}

/** Where the lock's record of the project's own dependencies differs from package.json. */
export function rootDrift(manifest: Manifest, lock: Lock): string[] {
  const root = (lock.packages[""] ?? {}) as Manifest;
  const drift: string[] = [];
  for (const kind of KINDS) {
    const wanted = manifest[kind] ?? {};
    const locked = root[kind] ?? {};
    for (const name of new Set([...Object.keys(wanted), ...Object.keys(locked)])) {
      if (wanted[name] !== locked[name]) drift.push(`${kind}.${name}: package.json ${wanted[name] ?? "—"}, lock ${locked[name] ?? "—"}`);
    }
  }
  return drift;
}
