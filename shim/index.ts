/**
 * `npm run shim`: the seed's internal text port (`text://127.0.0.1:5678`) in front of edgepush.
 * Each JSON line is sent on to `POST /push` unchanged and answered `ok` or `fail`.
 */
import { ConfigError, USAGE, readConfig, type ShimConfig } from "./config";
import { checkSecret } from "./secret-check";
import { startShim, type Shim } from "./server";

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  let config: ShimConfig;
  try {
    config = readConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`[shim] ${err.message}`);
    process.exit(1);
  }
  const { options, secretSource } = config;
  // Handlers go in before the start-up line: a supervisor that signals on seeing that line must
  // get a clean exit 0, not the default SIGTERM death of a process between printing and process.on.
  let shim: Shim | undefined;
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    void (shim ? shim.close() : Promise.resolve()).then(() => process.exit(code));
  };
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
  shim = await startShim(options).catch((err: Error) => {
    console.error(`[shim] cannot listen on ${options.host}:${options.port}: ${err.message}`);
    process.exit(1);
  });
  const batching = options.batchMs ? `, batching ${options.batchMs} ms` : "";
  console.log(
    `[edgepush] shim on tcp://${shim.host}:${shim.port} → ${options.url.replace(/\/+$/, "")}/push` +
      ` (PUSH_SECRET from ${secretSource}${batching})`,
  );

  // Lines are answered meanwhile, as always; the check only decides whether the shim keeps running.
  if (config.waitS > 0) void verifySecret(config, stop);
}

/** Exits non-zero, saying why, when edgepush refuses the secret or never answers. */
async function verifySecret(config: ShimConfig, stop: (code: number) => void): Promise<void> {
  const { url, secret } = config.options;
  const base = url.replace(/\/+$/, "");
  const result = await checkSecret(base, secret, {
    waitMs: config.waitS * 1000,
    onWaiting: (why) => console.error(`[shim] waiting up to ${config.waitS} s for edgepush at ${base} to answer (${why})`),
  });
  if (result.ok) return void console.log(`[edgepush] shim: edgepush at ${base} accepted PUSH_SECRET`);
  if (result.kind === "refused") {
    console.error(
      `[shim] edgepush at ${base} refused PUSH_SECRET from ${config.secretSource} (${result.detail}): ` +
        "give the shim the Worker's secret (.dev.vars for npm start / npm run dev; what `wrangler secret put PUSH_SECRET` set when deployed); stopping",
    );
  } else {
    console.error(
      `[shim] edgepush at ${base} did not answer in ${config.waitS} s (${result.detail}): ` +
        "start it (npm start, npm run dev, npm run serve) or fix --url / EDGEPUSH_URL; stopping",
    );
  }
  stop(1);
}

void main();
