import { defineConfig } from "vitest/config";

/** Node suite: shim, client and SDK in Node; end-to-end tests against a real `wrangler dev`. */
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts", "test/e2e/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each e2e file starts its own wrangler dev; two at once is what 2 cores hold.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
