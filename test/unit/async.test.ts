import { describe, expect, it } from "vitest";
import { settledWithin } from "../../src/util/async";

const after = <T>(ms: number, value: T, fail = false) =>
  new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(new Error(String(value))) : resolve(value)), ms));

describe("settledWithin", () => {
  it("Should return as soon as the promise settles, well before the limit", async () => {
    const started = Date.now();
    await settledWithin(after(5, "done"), 5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("Should return at the limit when the promise takes longer, leaving it pending", async () => {
    let settled = false;
    const slow = after(3_000, "late").then(() => (settled = true));
    const started = Date.now();
    await settledWithin(slow, 30);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(settled).toBe(false);
  });

  it("Should not reject when the promise rejects", async () => {
    await expect(settledWithin(after(1, "boom", true), 1_000)).resolves.toBeUndefined();
  });
});
