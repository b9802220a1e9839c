import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, seedClient, startShimProcess, until, upgradeStatus, type SeedClient, type ShimProcess } from "./php-helpers";
import { skipWithout } from "./prerequisites";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, startWranglerDev, type DevServer } from "./wrangler-dev";

// Without php outside CI: skipped, with one line saying what to install (hooks do not run then).
const NO_PHP = skipWithout("php");

// The seeds' backend push code, verbatim (comments included) but for the port.
const SEED_BACKEND = `
// 建立socket连接到内部推送端口
$client = stream_socket_client('tcp://127.0.0.1:5678', $errno, $errmsg, 1);
// 推送的数据,包含uid字段,表示是给这个uid推送
$data = array('uid'=>'uid1', 'percent'=>'88%');
// 发送数据,注意5678端口是Text协议的端口,Text协议需要在数据末尾加上换行符
fwrite($client, json_encode($data)."\\n");
// 读取推送结果
echo fread($client, 8192);
`;

let server: DevServer;
let shim: ShimProcess;
const clients: SeedClient[] = [];

beforeAll(async () => {
  server = await startWranglerDev();
  shim = await startShimProcess(server.url, E2E_PUSH_SECRET);
});
afterAll(async () => {
  for (const client of clients) client.close();
  await shim?.stop();
  await server?.stop();
});

const backendHeaders = { Authorization: `Bearer ${E2E_PUSH_SECRET}` };

async function isOnline(uid: string): Promise<boolean> {
  const res = await fetch(`${server.url}/online/${uid}`, { headers: backendHeaders });
  return ((await res.json()) as { online: boolean }).online;
}

/** A seed-style client of `uid`, once edgepush counts it online. */
async function onlineSeedClient(uid: string): Promise<SeedClient> {
  const client = await seedClient(server.wsUrl, uid);
  clients.push(client);
  await until(async () => ((await isOnline(uid)) ? true : undefined), () => `${uid} to be online`);
  return client;
}

const messagesOf = (client: SeedClient, n: number) =>
  until(() => (client.messages.length >= n ? client.messages.slice() : undefined), () => `${n} messages, have ${JSON.stringify(client.messages)}`);

const phpPush = (...args: string[]) => run("php", ["examples/php/push.php", ...args], { EDGEPUSH_SHIM: `tcp://127.0.0.1:${shim.port}` });

describe.skipIf(NO_PHP)("the seeds' PHP backend and JavaScript client against edgepush", () => {
  it("Should run the seeds' own backend snippet unchanged and answer ok\\n to it", async () => {
    const client = await onlineSeedClient("uid1");
    const snippet = SEED_BACKEND.replace("tcp://127.0.0.1:5678", `tcp://127.0.0.1:${shim.port}`);
    const php = await run("php", ["-r", snippet]);
    expect(php).toMatchObject({ code: 0, stdout: "ok\n", stderr: "" });
    expect(await messagesOf(client, 1)).toEqual(['{"uid":"uid1","percent":"88%"}']);
  });

  it("Should deliver the PHP example's push through the shim as exactly the JSON line, and nothing else", async () => {
    const client = await onlineSeedClient("php-uid");
    const php = await phpPush("php-uid", "42%");
    expect(php).toMatchObject({ code: 0, stdout: "ok\n" });
    expect(await messagesOf(client, 1)).toEqual(['{"uid":"php-uid","percent":"42%"}']);
    // A second push proves no init frame or envelope slipped in before or between.
    await phpPush("php-uid", "43%");
    expect(await messagesOf(client, 2)).toEqual(['{"uid":"php-uid","percent":"42%"}', '{"uid":"php-uid","percent":"43%"}']);
  });

  it("Should keep a pipelining PHP backend's lines in order, answer each, and deliver each once", async () => {
    const client = await onlineSeedClient("pipe-uid");
    const php = await run("php", ["-r", `
      $client = stream_socket_client('tcp://127.0.0.1:${shim.port}', $errno, $errmsg, 1);
      $lines = '';
      for ($i = 0; $i < 500; $i++) $lines .= json_encode(array('uid' => 'pipe-uid', 'n' => $i)) . "\\n";
      fwrite($client, $lines);
      $answers = '';
      while (substr_count($answers, "\\n") < 500 && !feof($client)) $answers .= fread($client, 8192);
      echo $answers;`]);
    expect(php.stdout).toBe("ok\n".repeat(500));
    const received = await messagesOf(client, 500);
    expect(received.map((m) => JSON.parse(m).n)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it("Should answer fail\\n for a uid with no live connection", async () => {
    const php = await phpPush("nobody-online", "1%");
    expect(php).toMatchObject({ code: 1, stdout: "fail\n" });
    expect(shim.stderr()).toMatch(/line 1: uid "nobody-online": reached no live connection/);
  });

  it("Should stop delivering once the seed client has gone", async () => {
    const client = await onlineSeedClient("leaving-uid");
    client.close();
    await until(async () => ((await isOnline("leaving-uid")) ? undefined : true), () => "leaving-uid to be offline");
    expect((await phpPush("leaving-uid")).stdout).toBe("fail\n");
  });
});

describe.skipIf(NO_PHP)("the production PHP example against edgepush", () => {
  const production = (...args: string[]) =>
    run("php", ["examples/php/production.php", ...args], {
      EDGEPUSH_URL: server.url,
      PUSH_SECRET: E2E_PUSH_SECRET,
      TOKEN_SECRET: E2E_TOKEN_SECRET,
    });

  it("Should mint a token with hash_hmac that connects, and push to it with curl", async () => {
    const minted = await production("token", "php-jwt", "lobby");
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    const ws = new WebSocket(`${server.wsUrl}/ws?token=${token}`);
    const frames: string[] = [];
    ws.onmessage = (e) => frames.push(String(e.data));
    clients.push({ ws, messages: frames, close: () => ws.close() });
    const [init] = await until(() => (frames.length >= 1 ? frames.slice() : undefined), () => "the init frame");
    expect(JSON.parse(init)).toMatchObject({ type: "init", uid: "php-jwt", room: "uid:php-jwt" });

    const pushed = await production("push", "php-jwt", '{"hello":"from php","empty":{}}');
    expect(pushed.stderr).toBe("");
    expect(JSON.parse(pushed.stdout)).toMatchObject({ ok: true, delivered: 1, queued: 1 });
    const frame = await until(() => frames[1], () => "the push frame");
    expect(JSON.parse(frame)).toMatchObject({ type: "push", data: { hello: "from php", empty: {} } });
  });

  it("Should mint a token whose groups claim lets the client join that group only", async () => {
    const token = (await production("token", "php-member", "lobby")).stdout.trim();
    const inGroup = new WebSocket(`${server.wsUrl}/ws?token=${token}&group=lobby`);
    const frames: string[] = [];
    inGroup.onmessage = (e) => frames.push(String(e.data));
    clients.push({ ws: inGroup, messages: frames, close: () => inGroup.close() });
    const [init] = await until(() => (frames.length >= 1 ? frames.slice() : undefined), () => "the init frame");
    expect(JSON.parse(init)).toMatchObject({ type: "init", uid: "php-member", room: "group:lobby" });

    expect(await upgradeStatus(`${server.url}/ws?token=${token}&group=elsewhere`)).toBe(403);
  });

  it("Should report edgepush's refusal when the PHP backend's secret is wrong", async () => {
    const pushed = await run("php", ["examples/php/production.php", "push", "php-jwt", "1"], {
      EDGEPUSH_URL: server.url,
      PUSH_SECRET: "wrong",
    });
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr + pushed.stdout).toContain("edgepush answered 401 unauthorized");
  });
});
