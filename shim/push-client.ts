/** `POST /push` over one keep-alive agent shared by every backend connection of the shim. */
import http from "node:http";
import https from "node:https";

/** Status and parsed JSON body (null when the body is not JSON). */
export interface HttpAnswer {
  status: number;
  body: unknown;
}

export interface PushClientOptions {
  /** Concurrent requests to edgepush; more wait in the agent's queue. */
  maxSockets?: number;
  timeoutMs?: number;
}

// Batch answers are ~100 bytes per message; anything near this is not edgepush talking.
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * Posts line bodies to `{baseUrl}/push` with `Authorization: Bearer <secret>`.
 * @example await new PushClient("http://127.0.0.1:8787", secret).post('{"uid":"u1","data":1}')
 */
export class PushClient {
  readonly endpoint: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, private readonly secret: string, options: PushClientOptions = {}) {
    this.endpoint = new URL(`${baseUrl.replace(/\/+$/, "")}/push`);
    const Agent = this.endpoint.protocol === "https:" ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Sends one body; rejects with a readable reason when edgepush cannot be reached. */
  post(body: string): Promise<HttpAnswer> {
    const send = this.endpoint.protocol === "https:" ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send(this.endpoint, {
        method: "POST",
        agent: this.agent,
        headers: {
          Authorization: `Bearer ${this.secret}`,
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
        },
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer in ${this.timeoutMs} ms`)));
      req.on("error", (err) => reject(new Error(`edgepush unreachable at ${this.endpoint.origin}: ${err.message}`)));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) return req.destroy(new Error("answer too large"));
          chunks.push(chunk);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: parseJson(Buffer.concat(chunks).toString("utf8")) }));
        res.on("error", (err) => reject(new Error(`answer from edgepush broke off: ${err.message}`)));
      });
      req.end(body);
    });
  }

  /** Closes the idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
