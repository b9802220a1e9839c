// `npm run build:client`: bundles client/ into one ES module, public/edgepush-client.js, which the
// demo page and users load. wrangler.toml's [build] runs it before every `wrangler dev`/`deploy`,
// so a fresh clone never serves a stale or missing file. Runs on Node 20.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";

const OUT = "public/edgepush-client.js";

const result = await build({
  entryPoints: ["client/index.ts"],
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "neutral",
  write: false,
  legalComments: "none",
  banner: { js: "// edgepush client — built from client/ by `npm run build:client`; edit the source, not this file." },
});
const code = result.outputFiles[0].text;
// Unchanged output is not rewritten: a running `wrangler dev` would reload for nothing, and
// parallel test servers would race on the file. A new file appears by rename, never half-written.
if (!existsSync(OUT) || readFileSync(OUT, "utf8") !== code) {
  mkdirSync("public", { recursive: true });
  const tmp = `${OUT}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, OUT);
  console.log(`[edgepush] built ${OUT} (${code.length} bytes)`);
}
