import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/contract/errors";
import { planMessage } from "../../src/api/push-schema";

const MAX = 64 * 1024;

describe("push-schema", () => {
  it("Should turn any value into a plan or an ApiError, never a throw", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (value) => {
        const result = planMessage(value, MAX);
        if (!result.ok) expect(result.error).toBeInstanceOf(ApiError);
      }),
      { numRuns: 500 },
    );
  });

  it("Should accept any JSON data to a valid uid", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,128}$/), fc.jsonValue({ maxDepth: 3 }), (uid, data) => {
        const result = planMessage({ uid, data }, MAX);
        expect(result.ok).toBe(true);
        if (result.ok) expect(result.plan.rooms).toEqual([`uid:${uid}`]);
      }),
    );
  });

  it("Should keep a seed body's exact text as the payload", () => {
    const text = '{"uid":"uid1","percent":"88%"}';
    const result = planMessage(JSON.parse(text), MAX, text);
    expect(result.ok && result.plan.message).toMatchObject({ dataJson: text, raw: text });
  });

  it("Should measure the payload in UTF-8 bytes", () => {
    const snowmen = "☃".repeat(22_000); // 66,000 bytes in 22,000 chars
    const result = planMessage({ uid: "a", data: snowmen }, MAX);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe("too_large");
  });

  it("Should de-duplicate uids and groups", () => {
    const result = planMessage({ uids: ["a", "a", "b"], data: 1 }, MAX);
    expect(result.ok && result.plan.rooms).toEqual(["uid:a", "uid:b"]);
  });
});
