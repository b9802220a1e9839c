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
  // defineProperty and hasOwn: a key named `__proto__` is data, not the object's prototype.
  for (const [key, value] of Object.entries(patch)) {
    const merged = mergeValue(Object.hasOwn(out, key) ? out[key] : undefined, value);
    Object.defineProperty(out, key, { value: merged, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

function mergeValue(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const out = base.slice();
    patch.forEach((value, i) => (out[i] = i < base.length ? mergeValue(base[i], value) : value));
    return out;
  }
  if (isJsonObject(base) && isJsonObject(patch)) return replaceRecursive(base, patch);
  return patch;
}

/** True for a JSON object (not null, not a list). */
export function isJsonObject(value: unknown): value is Session {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * How deeply `value` nests (a scalar is 0, `[]` is 1), counted without recursion so any parsed
 * body can be measured. Sessions are checked with it: the merge, the RPC's structured clone and
 * JSON.stringify all recurse, and a few thousand levels (8 KiB of `[`) overflow the stack.
 * @example jsonDepth({ a: [1] }) // 2
 */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    max = Math.max(max, depth + 1);
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return max;
}
