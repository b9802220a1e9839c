/**
 * `npm run shim`: the seed's internal text port (`text://127.0.0.1:5678`) in front of edgepush.
 * Each JSON line is sent on to `POST /push` unchanged and answered `ok` or `fail`.
 */
import { ConfigError, USAGE, readConfig } from "./config";
import { startShim } from "./server";

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  let config;
  try {
    config = readConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`[shim] ${err.message}`);
    process.exit(1);
  }
  const { options, secretSource } = config;
  const shim = await startShim(options).catch((err: Error) => {
    console.error(`[shim] cannot listen on ${options.host}:${options.port}: ${err.message}`);
    process.exit(1);
  });
  const batching = options.batchMs ? `, batching ${options.batchMs} ms` : "";
  console.log(
    `[edgepush] shim on tcp://${shim.host}:${shim.port} → ${options.url.replace(/\/+$/, "")}/push` +
      ` (PUSH_SECRET from ${secretSource}${batching})`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void shim.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

void main();
