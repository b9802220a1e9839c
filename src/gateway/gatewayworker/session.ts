/** GatewayWorker sessions as JSON: the deep merge of `updateSession`. Pure. */

export type Session = Record<string, unknown>;

/**
 * PHP's `array_replace_recursive($base, $patch)`, what GatewayWorker's updateSession does, on
 * JSON values: objects are merged key by key and lists index by index, recursively; anything
 * else in `patch` (a scalar, null, or a list meeting an object) replaces what `base` had.
 * @example replaceRecursive({ a: { x: 1 }, n: [1, 2] }, { a: { y: 2 }, n: [9] }) // { a: { x: 1, y: 2 }, n: [9, 2] }
 */
export function replaceRecursive(base: Session, patch: Session): Session {
  const out: Session = { ...base };
  for (const [key, value] of Object.entries(patch)) out[key] = mergeValue(out[key], value);
  return out;
}

function mergeValue(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const out = base.slice();
    patch.forEach((value, i) => (out[i] = i < base.length ? mergeValue(base[i], value) : value));
    return out;
  }
  if (isObject(base) && isObject(patch)) return replaceRecursive(base, patch);
  return patch;
}

function isObject(value: unknown): value is Session {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
