import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * `npm run cost`: the real Worker and its Durable Objects in workerd with the production
 * defaults (16 directory shards, 16 gateway shards, every limit at its default), metered
 * (COST_METER: src/util/meter.ts), through each billed event.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          COST_METER: "true",
          PUSH_SECRET: "test-push-secret",
          TOKEN_SECRET: "test-token-secret",
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
