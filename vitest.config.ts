import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Workers-runtime suite: the Worker and its rooms in workerd, through the public entry points. */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          PUSH_SECRET: "test-push-secret",
          TOKEN_SECRET: "test-token-secret",
          LEGACY_UID_HANDSHAKE: "true",
          PUBLISH_RATE_PER_10S: "20",
          // Small frame budgets, so tests reach them quickly (the defaults are 2000 and 16 MiB).
          CLIENT_FRAMES_PER_10S: "100",
          CLIENT_BYTES_PER_10S: "300000",
          // A small outbound bound, so the slow-reader tests reach it with a few pushes (default 4 MiB).
          OUTBOUND_MAX_BYTES: "1000000",
          // Few shards and a tiny fan-out, so broadcasts in tests go through relays too.
          DIRECTORY_SHARDS: "4",
          BROADCAST_FANOUT: "3",
          // Closes are not reported to the directory: a listing asks every room it has not heard from
          // in PRESENCE_CHECK_S (60 s by default). 0: always ask, so a test sees a close at once.
          PRESENCE_CHECK_S: "0",
          MAX_SOCKETS_PER_ROOM: "60",
          MAX_SOCKETS_PER_UID: "20",
          // Two gateway shards: enough to see a channel spread over gateways.
          GATEWAY_SHARDS: "2",
          GATEWAY_ANONYMOUS: "true",
          PUSHER_APP_ID: "1",
          PUSHER_APP_KEY: "test-pusher-key",
          PUSHER_APP_SECRET: "test-pusher-secret",
        },
      },
    }),
  ],
  test: {
    include: ["test/*.test.ts", "test/unit/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
