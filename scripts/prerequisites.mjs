// The tools some tests need besides Node and npm: PHP with its curl extension (the seeds' backend
// and examples/php) and Chromium (the demo page). Outside CI a test file whose tool is missing is
// skipped with one line saying what to install; under CI (CI=true) every tool is required.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

/** Each tool: what it is, how to install it, and whether this machine has it. */
export const TOOLS = {
  php: {
    what: "PHP with its curl extension",
    install: "sudo apt-get install php-cli php-curl (Debian/Ubuntu) or brew install php (macOS)",
    present: () => spawnSync("php", ["-r", 'exit(function_exists("curl_init") ? 0 : 1);'], { stdio: "ignore" }).status === 0,
  },
  chromium: {
    what: "Chromium",
    install: "sudo apt-get install chromium (Debian/Ubuntu) or brew install --cask chromium (macOS), or set CHROMIUM_PATH",
    present: () => chromiumPath() !== undefined,
  },
};

const MACOS_APPS = ["/Applications/Chromium.app/Contents/MacOS/Chromium", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"];

/** The Chromium to drive: CHROMIUM_PATH, else `chromium` / `chromium-browser` on PATH, else the macOS app. */
export function chromiumPath(env = process.env) {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : undefined;
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    for (const name of ["chromium", "chromium-browser"]) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return MACOS_APPS.find((app) => existsSync(app));
}

/** Under CI every tool is required: a missing one fails its tests instead of skipping them. */
export function toolsRequired(env = process.env) {
  return Boolean(env.CI) && env.CI !== "false" && env.CI !== "0";
}

const checked = new Map();
/** The names among `names` this machine lacks (each checked once per process). */
export function missingTools(names = Object.keys(TOOLS)) {
  for (const name of names) if (!checked.has(name)) checked.set(name, TOOLS[name].present());
  return names.filter((name) => !checked.get(name));
}

/** The one line printed for a missing tool. */
export function missingLine(name, env = process.env) {
  const { what, install } = TOOLS[name];
  return toolsRequired(env)
    ? `[edgepush] ${what} is not installed and CI requires it (its tests will fail): ${install}`
    : `[edgepush] ${what} is not installed: skipping the tests and README blocks that need it; to run them: ${install}`;
}
