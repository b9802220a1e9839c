// Types for `env` and `exports` in the Workers-runtime tests (what `wrangler types` would generate).
type EdgepushEnv = import("../src/env").Env;
declare namespace Cloudflare {
  interface Env extends EdgepushEnv {}
  interface GlobalProps {
    mainModule: typeof import("../src/worker");
    durableNamespaces: "RoomObject";
  }
}

// Vite's `?raw` imports (the cost suite reads README.md this way).
declare module "*?raw" {
  const text: string;
  export default text;
}
