#!/usr/bin/env node
// `npx edgepush …`: client tokens, pushes and presence from a shell. Plain ESM so it runs on Node 20
// and 22 with no build step. Exit codes: 0 ok, 1 the API refused or could not be reached, 2 usage.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ApiCallError, callApi, isName, signToken } from "./api.mjs";
import { DEFAULT_URL, UsageError, readConfig, requirePushSecret } from "./config.mjs";

const USAGE = `usage: edgepush <command> [options]

commands:
  token  --uid U [--groups g1,g2] [--ttl 3600] [--json]  a client token for /ws?token=… (prints the token)
  push   TARGET [--id ID] [--ttl S] DATA                 push DATA (JSON text, or - for stdin)
           TARGET: --uid U | --uids a,b | --group G [--exclude cid,…] | --groups a,b | --all | --client-id C
  online UID                                             is UID connected? {"uid","online","connections"}
  group  GROUP                                           {"group","connections","uids"}
  stats                                                  {"connections","rooms","uids","groups"}
  uids | groups [--limit N] [--cursor C]                 online uids / live groups, a page at a time
  grant  GROUP UID | revoke GROUP UID                    let UID join GROUP / remove it from GROUP
  kick   --uid U | --client-id C [--reason R]            close that uid's sockets / that connection

settings (flag, else environment, else .dev.vars in the current folder):
  --url           EDGEPUSH_URL   the deployment           (${DEFAULT_URL})
  --secret        PUSH_SECRET    backend credential
  --token-secret  TOKEN_SECRET   signs tokens locally; without it \`token\` calls POST /token

exit codes: 0 ok, 1 the API answered an error or could not be reached, 2 usage or settings`;

const SETTINGS = { url: { type: "string" }, secret: { type: "string" }, "token-secret": { type: "string" }, help: { type: "boolean", short: "h" } };
const str = { type: "string" };

const COMMANDS = {
  token: { options: { uid: str, groups: str, ttl: str, json: { type: "boolean" } }, args: [], run: token },
  push: {
    options: { uid: str, uids: str, group: str, groups: str, all: { type: "boolean" }, "client-id": str, exclude: str, id: str, ttl: str },
    args: ["DATA"],
    run: push,
  },
  online: { options: {}, args: ["UID"], run: (c, _f, [uid]) => get(c, `/online/${encodeURIComponent(uid)}`) },
  group: { options: {}, args: ["GROUP"], run: (c, _f, [group]) => get(c, `/groups/${encodeURIComponent(group)}`) },
  stats: { options: {}, args: [], run: (c) => get(c, "/stats") },
  uids: { options: { limit: str, cursor: str }, args: [], run: (c, f) => get(c, `/uids${page(f)}`) },
  groups: { options: { limit: str, cursor: str }, args: [], run: (c, f) => get(c, `/groups${page(f)}`) },
  grant: { options: {}, args: ["GROUP", "UID"], run: (c, _f, [g, uid]) => send(c, "POST", `/groups/${encodeURIComponent(g)}/members`, { uid }) },
  revoke: {
    options: {},
    args: ["GROUP", "UID"],
    run: (c, _f, [g, uid]) => send(c, "DELETE", `/groups/${encodeURIComponent(g)}/members/${encodeURIComponent(uid)}`),
  },
  kick: { options: { uid: str, "client-id": str, reason: str }, args: [], run: kick },
};

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    if (name === undefined) throw new UsageError("no command given");
    console.log(USAGE);
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...SETTINGS, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${name}: ${err.message}`);
  }
  if (parsed.values.help) return console.log(USAGE);
  if (parsed.positionals.length !== command.args.length) {
    const expected = command.args.length === 0 ? "no arguments" : command.args.join(" ");
    throw new UsageError(`${name}: expected ${expected}, got ${parsed.positionals.length === 0 ? "none" : parsed.positionals.join(" ")}`);
  }
  const config = readConfig(parsed.values, process.env);
  const output = await command.run(config, parsed.values, parsed.positionals);
  if (output !== undefined) console.log(typeof output === "string" ? output : JSON.stringify(output));
}

const get = (config, path) => callApi(config, requirePushSecret(config), "GET", path);
const send = (config, method, path, body) => callApi(config, requirePushSecret(config), method, path, body);

async function token(config, flags) {
  if (!flags.uid) throw new UsageError("token: --uid is required");
  const groups = list(flags.groups);
  for (const name of [flags.uid, ...groups]) {
    if (!isName(name)) throw new UsageError(`token: ${JSON.stringify(name)} is not a valid name (1-128 chars of [A-Za-z0-9_.:@-])`);
  }
  const claims = { uid: flags.uid, groups, ttl: integer(flags.ttl, "--ttl", 1) ?? 3600 };
  let signed;
  if (config.tokenSecret) signed = signToken(claims, config.tokenSecret);
  else if (config.pushSecret) signed = await send(config, "POST", "/token", claims);
  else throw new UsageError("token: TOKEN_SECRET is not set: export TOKEN_SECRET, pass --token-secret, or run where .dev.vars is");
  return flags.json ? signed : signed.token;
}

async function push(config, flags, [dataText]) {
  const targets = ["uid", "uids", "group", "groups", "all", "client-id"].filter((t) => flags[t] !== undefined);
  if (targets.length !== 1) throw new UsageError(`push: give exactly one target (--uid, --uids, --group, --groups, --all or --client-id), got ${targets.length}`);
  const message = {};
  if (flags.uid !== undefined) message.uid = flags.uid;
  if (flags.uids !== undefined) message.uids = list(flags.uids);
  if (flags.group !== undefined) message.group = flags.group;
  if (flags.groups !== undefined) message.groups = list(flags.groups);
  if (flags.all) message.all = true;
  if (flags["client-id"] !== undefined) message.clientId = flags["client-id"];
  if (flags.exclude !== undefined) message.exclude = list(flags.exclude);
  if (flags.id !== undefined) message.id = flags.id;
  if (flags.ttl !== undefined) message.ttl = integer(flags.ttl, "--ttl", 0);
  const text = dataText === "-" ? readFileSync(0, "utf8") : dataText;
  try {
    message.data = JSON.parse(text);
  } catch {
    throw new UsageError(`push: DATA must be JSON, e.g. '{"hello":1}' or '"some text"' (got ${text.slice(0, 40)})`);
  }
  return send(config, "POST", "/push", message);
}

function kick(config, flags) {
  if ((flags.uid === undefined) === (flags["client-id"] === undefined)) throw new UsageError("kick: give --uid or --client-id");
  const target = flags.uid !== undefined ? { uid: flags.uid } : { clientId: flags["client-id"] };
  return send(config, "POST", "/kick", flags.reason === undefined ? target : { ...target, reason: flags.reason });
}

function page(flags) {
  const query = new URLSearchParams();
  if (flags.limit !== undefined) query.set("limit", String(integer(flags.limit, "--limit", 1)));
  if (flags.cursor !== undefined) query.set("cursor", flags.cursor);
  return query.size > 0 ? `?${query}` : "";
}

function list(text) {
  return text === undefined ? [] : text.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

function integer(text, flag, min) {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`${flag}: expected an integer ≥ ${min}, got ${text}`);
  return value;
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`edgepush: ${err.message}\n(usage: npx edgepush --help)`);
    process.exitCode = 2;
  } else if (err instanceof ApiCallError) {
    console.error(`edgepush: ${err.message}`);
    process.exitCode = 1;
  } else {
    console.error(`edgepush: ${err?.stack ?? err}`);
    process.exitCode = 1;
  }
}
