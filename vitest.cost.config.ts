import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * `npm run cost`: the real Worker and its Durable Objects in workerd with the production
 * defaults (16 directory shards, every limit at its default; one gateway shard), metered
 * (COST_METER: src/util/meter.ts), through each billed event.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          COST_METER: "true",
          // `npm run cost -- --write` rewrites docs/costs.md and the README's summary instead of checking them.
          COST_README_CHECK: process.env.COST_WRITE ? "false" : "true",
          PUSH_SECRET: "test-push-secret",
          TOKEN_SECRET: "test-token-secret",
          // One gateway shard: a connection's cost does not depend on the shard count, and a warm-up
          // connection then leaves no shard cold for the measured one.
          GATEWAY_SHARDS: "1",
          GATEWAY_ANONYMOUS: "true",
          PUSHER_APP_ID: "1",
          PUSHER_APP_KEY: "test-pusher-key",
          PUSHER_APP_SECRET: "test-pusher-secret",
        },
      },
    }),
  ],
  test: {
    include: ["test/cost/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
