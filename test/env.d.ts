// Types for `env` and `exports` in the Workers-runtime tests (what `wrangler types` would generate).
type EdgepushEnv = import("../src/env").Env;
declare namespace Cloudflare {
  interface Env extends EdgepushEnv {}
  interface GlobalProps {
    mainModule: typeof import("../src/worker");
    durableNamespaces: "RoomObject";
  }
}
