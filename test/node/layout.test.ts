import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

/** Every .ts file under `dir`, with the relative imports (type-only ones too) it makes. */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".ts")) graph.set(normalize(path), []);
    }
  };
  walk(dir);
  for (const [file, deps] of graph) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:import|export)[^;]*?from\s+"(\.[^"]+)"|import\("(\.[^"]+)"\)/g)) {
      let target = normalize(join(dirname(file), m[1] ?? m[2]));
      if (!target.endsWith(".ts")) target += ".ts";
      if (graph.has(target)) deps.push(target);
    }
  }
  return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (file: string): string[] | null => {
    state.set(file, 1);
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 1) return [...stack.slice(stack.indexOf(dep)), dep];
      if (!state.has(dep)) {
        const found = visit(dep);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(file, 2);
    return null;
  };
  for (const file of graph.keys()) if (!state.has(file)) {
    const found = visit(file);
    if (found) return found;
  }
  return null;
}

describe("src/ layout", () => {
  it("Should have no import circle, type-only imports included", () => {
    expect(findCycle(importGraph("src"))).toBeNull();
  });

  it("Should keep Durable Objects and pure modules away from HTTP modules", () => {
    const graph = importGraph("src");
    const offenders = [...graph].filter(([file, deps]) =>
      !file.startsWith(normalize("src/api")) && file !== normalize("src/worker.ts") &&
      deps.some((d) => d.startsWith(normalize("src/api"))));
    expect(offenders.map(([f]) => f)).toEqual([]);
  });

  it("Should find a planted circle (the check itself works)", () => {
    const graph = new Map([["a.ts", ["b.ts"]], ["b.ts", ["a.ts"]]]);
    expect(findCycle(graph)).toEqual(["a.ts", "b.ts", "a.ts"]);
  });
});
