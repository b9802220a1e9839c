import { describe, expect, it } from "vitest";
import { jsonDepth, replaceRecursive } from "../../src/gateway/gatewayworker/session";

describe("replaceRecursive (GatewayWorker's updateSession merge)", () => {
  it("Should merge like PHP's array_replace_recursive: objects by key, lists by index, scalars replaced", () => {
    // The expected value is what php-cli 8 printed for the same arrays with json_encode(array_replace_recursive(…)).
    const base = { a: { x: 1, z: { p: 1 } }, n: [1, 2, 3], s: "old", o: { k: 1 } };
    const patch = { a: { y: 2, z: { q: 2 } }, n: [9], s: { now: "array" }, o: "scalar", new: null };
    expect(replaceRecursive(base, patch)).toEqual({ a: { x: 1, z: { p: 1, q: 2 }, y: 2 }, n: [9, 2, 3], s: { now: "array" }, o: "scalar", new: null });
  });

  it("Should leave both inputs unchanged", () => {
    const base = { a: { x: 1 }, n: [1] };
    replaceRecursive(base, { a: { y: 2 }, n: [2, 3] });
    expect(base).toEqual({ a: { x: 1 }, n: [1] });
  });

  it("Should append list items past the end of the old list", () => {
    expect(replaceRecursive({ n: [1] }, { n: [7, 8] })).toEqual({ n: [7, 8] });
  });
});

describe("jsonDepth", () => {
  it("Should count nesting levels of objects and lists, scalars being 0", () => {
    expect([jsonDepth("x"), jsonDepth(null), jsonDepth([]), jsonDepth({ a: [1, { b: {} }] })]).toEqual([0, 0, 1, 4]);
  });

  it("Should measure nesting far deeper than the stack allows recursion", () => {
    const deep = JSON.parse("[".repeat(100_000) + "]".repeat(100_000));
    expect(jsonDepth(deep)).toBe(100_000);
  });
});

describe("replaceRecursive with keys that name Object's own properties", () => {
  it("Should merge a __proto__ key as data, never as the prototype", () => {
    const base = JSON.parse('{"__proto__":{"a":1},"constructor":{"b":2}}');
    const merged = replaceRecursive(base, JSON.parse('{"__proto__":{"c":3},"toString":1}'));
    expect(JSON.stringify(merged)).toBe('{"__proto__":{"a":1,"c":3},"constructor":{"b":2},"toString":1}');
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });
});
