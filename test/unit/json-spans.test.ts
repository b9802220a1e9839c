import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { elementSpans, memberSpan, valueSpan } from "../../src/api/json-spans";

const slice = (text: string, span: [number, number] | null) => (span ? text.slice(span[0], span[1]) : null);

describe("json-spans", () => {
  it("Should find a member's exact source text", () => {
    const text = ' { "uid" : "a", "data" : {"b":1,"2":2, "n": 1.50, "big": 12345678901234567890} , "x":[1,"]"] }\n';
    expect(slice(text, memberSpan(text, "data"))).toBe('{"b":1,"2":2, "n": 1.50, "big": 12345678901234567890}');
    expect(slice(text, memberSpan(text, "x"))).toBe('[1,"]"]');
    expect(memberSpan(text, "nope")).toBeNull();
    expect(slice(text, valueSpan(text))).toBe(text.trim());
  });

  it("Should take the last of repeated keys, as JSON.parse does, and read escaped keys", () => {
    const text = '{"data":1,"d\\u0061ta":"two"}';
    expect(slice(text, memberSpan(text, "data"))).toBe('"two"');
  });

  it("Should give every member span that parses to the parsed member", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), (object, pretty) => {
        const text = JSON.stringify(object, null, pretty ? 2 : undefined);
        const parsed = JSON.parse(text);
        for (const key of Object.keys(parsed)) {
          expect(JSON.parse(slice(text, memberSpan(text, key))!)).toEqual(parsed[key]);
        }
      }),
    );
  });

  it("Should split an array into its elements' source texts", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.boolean(), (items, pretty) => {
        const text = JSON.stringify(items, null, pretty ? 1 : undefined);
        const spans = elementSpans(text);
        expect(spans.map((s) => JSON.parse(slice(text, s)!))).toEqual(JSON.parse(text));
      }),
    );
  });
});
