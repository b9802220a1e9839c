import { describe, expect, it } from "vitest";
import { codeBlocks, unmet } from "../e2e/readme-blocks";

describe("README block promises", () => {
  it("Should take a promised line only as a whole line: ok is neither okay nor a notice that says ok", () => {
    expect(unmet(["ok"], "okay\n")).toEqual(["ok"]);
    expect(unmet(["ok"], "PHP Notice: fwrite(): send of 5 bytes failed with errno=32 Broken pipe ok\n")).toEqual(["ok"]);
    expect(unmet(["ok"], "fail\nok\n")).toEqual([]);
    expect(unmet(["ok"], "ok")).toEqual([]);
    expect(unmet(["ok"], "ok\r\n")).toEqual([]);
  });

  it("Should let … stand for any text inside the line, and nothing else be a pattern", () => {
    const promise = '{"ok":true,"id":"…","delivered":1}';
    expect(unmet([promise], '{"ok":true,"id":"a-1","delivered":1}\n')).toEqual([]);
    expect(unmet([promise], '{"ok":true,"id":"a-1","delivered":1,"queued":1}\n')).toEqual([promise]);
    expect(unmet(["1.5 (x)"], "1x5 (x)\n")).toEqual(["1.5 (x)"]);
  });

  it("Should need a line of its own for each promise, in any order", () => {
    expect(unmet(["a", "b"], "b\na\n")).toEqual([]);
    expect(unmet(["a", "a"], "a\n")).toEqual(["a"]);
    expect(unmet(["a", "a"], "a\nx\na\n")).toEqual([]);
  });

  it("Should read arrows and expect directives as stdout promises, expect-stderr apart", () => {
    const readme = [
      "<!-- expect: first -->",
      "<!-- expect-stderr: on stderr -->",
      "```sh",
      "echo first",
      "echo second # → second",
      "```",
    ].join("\n");
    expect(codeBlocks(readme)).toMatchObject([{ line: 3, lang: "sh", expects: ["first", "second"], stderrExpects: ["on stderr"] }]);
  });
});
