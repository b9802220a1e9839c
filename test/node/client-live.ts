/** The client library's tests against a real `wrangler dev` behind a proxy that can cut the network. */
import { sign } from "hono/jwt";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { EdgePushClient, type EdgePushOptions } from "../../client";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, backendPush, startWranglerDev, type DevServer } from "../e2e/wrangler-dev";
import { TcpProxy, queueEvents } from "./client-fixtures";

/** A client token for `uid`, signed with the e2e TOKEN_SECRET. */
export const token = (uid: string, groups: string[] = [], ttl = 300): Promise<string> =>
  sign({ sub: uid, exp: Math.floor(Date.now() / 1000) + ttl, groups }, E2E_TOKEN_SECRET, "HS256");

type StartOptions = Partial<EdgePushOptions> & Pick<EdgePushOptions, "getToken">;

/** The clients' reconnect timing in these tests: short, so a retry is quick to see. */
export const BACKOFF = { minDelay: 50, maxDelay: 200 };

/** One wrangler dev and proxy per test file (hooks registered on construction); clients closed after each test. */
export class LiveClients {
  server!: DevServer;
  proxy!: TcpProxy;
  private readonly clients: EdgePushClient[] = [];

  constructor(private readonly defaults: Partial<EdgePushOptions> = {}) {
    beforeAll(async () => {
      this.server = await startWranglerDev();
      this.proxy = await TcpProxy.start(this.server.port);
    });
    afterEach(() => {
      for (const client of this.clients.splice(0)) client.close();
      this.proxy.refuse = false;
    });
    afterAll(async () => {
      await this.proxy?.stop();
      await this.server?.stop();
    });
  }

  /** A client (through the proxy unless `url` says otherwise) and a queue of its events. */
  start(options: StartOptions, url = this.proxy.url) {
    const client = new EdgePushClient({ url, backoff: BACKOFF, ...this.defaults, ...options });
    this.clients.push(client);
    return { client, events: queueEvents(client) };
  }

  push(body: unknown): Promise<Record<string, unknown>> {
    return backendPush(this.server, body);
  }

  /** A backend call that must answer 200; its JSON. */
  async backend(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.status, `${method} ${path}`).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }
}
