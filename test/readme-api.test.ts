/// <reference types="vite/client" />
/** Keeps the README's HTTP API reference true: its tables against the Worker's routes and error codes. */
import { describe, expect, it } from "vitest";
import readme from "../README.md?raw";
import errorsSource from "../src/contract/errors.ts?raw";
import protocolSource from "../src/contract/protocol.ts?raw";
import app from "../src/worker";
import { api } from "./helpers";

/** The text under a `## title` (or `### title`) heading, up to the next heading of that level or higher. */
function section(title: string): string {
  const lines = readme.split("\n");
  const start = lines.findIndex((l) => /^#{2,3} /.test(l) && l.replace(/^#+ /, "") === title);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const level = lines[start].indexOf(" ");
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.indexOf(" ") <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

/** `METHOD /path` of every row of the reference's route table. */
function documentedRoutes(): string[] {
  const rows = [...section("HTTP API reference").matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE)` \| `([^`]+)` \|/gm)];
  return rows.map(([, method, path]) => `${method} ${path}`);
}

/** The members of `export type <name> = | "a" | "b" …;` in a source file. */
function unionMembers(source: string, name: string): string[] {
  const body = new RegExp(`export type ${name} =([^;]+);`).exec(source)?.[1];
  if (!body) throw new Error(`no type ${name}`);
  return [...body.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
}

const sorted = (items: string[]) => [...items].sort();

describe("README API reference", () => {
  it("Should document every route of the Worker, and no route it does not have", () => {
    const routes = app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`);
    expect(documentedRoutes().length).toBeGreaterThanOrEqual(10);
    expect(sorted(documentedRoutes())).toEqual(sorted(routes));
  });

  it("Should answer every documented route with something other than 404", async () => {
    for (const route of documentedRoutes()) {
      const [method, template] = route.split(" ");
      const path = template.replace(":uid", "readme-uid").replace(":group", "readme-group")
        .replace(":id", "1").replace(":channel", "readme-channel").replace(":user_id", "readme-user");
      const res = await api(path, { method, ...(method === "GET" ? {} : { body: "{}" }) });
      const body = (await res.json()) as { error?: { code: string } };
      expect({ route, status: res.status }).not.toEqual({ route, status: 404 });
      expect({ route, code: body.error?.code }).not.toEqual({ route, code: "not_found" });
    }
  });

  it("Should list exactly the contract's error codes in the error table", () => {
    const documented = [...section("Errors").matchAll(/^\| \d{3} \| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(sorted(documented)).toEqual(sorted(unionMembers(errorsSource, "ErrorCode")));
  });

  it("Should list exactly the client frame error codes", () => {
    const line = /^Client frame error codes: (.+)\.$/m.exec(section("Client connections and frames"))?.[1] ?? "";
    const documented = [...line.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(sorted(documented)).toEqual(sorted(unionMembers(protocolSource, "ClientErrorCode")));
  });
});
