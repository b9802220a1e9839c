import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gatewayConnect } from "./gateway-helpers";
import { api, push } from "./helpers";
import { getJson, unique } from "./presence-helpers";

/** Statuses a backend call may answer with bad input; 500 and 503 never (nothing here is down). */
const ANSWERS = [200, 400, 404, 405, 413, 415];

/** Sends a request and checks the answer is one of ANSWERS with a JSON body, an error body when not 200. */
async function expectClearAnswer(method: string, path: string, body?: BodyInit, type = "application/json"): Promise<any> {
  const headers: Record<string, string> = body === undefined ? {} : { "Content-Type": type };
  const res = await api(path, { method, body, headers });
  const text = await res.text();
  expect(ANSWERS, `${method} ${path} → ${res.status} ${text}`).toContain(res.status);
  const answer = JSON.parse(text);
  if (res.status !== 200) expect(typeof answer.error.code, text).toBe("string");
  return { status: res.status, answer };
}

/** Client ids of every shape: malformed, escaped oddly, on no shard, and well-formed but not connected. */
const clientIds = fc.oneof(
  fc.constantFrom(
    "", "0", ".", "0.", ".1234567890123456", "99999.1234567890123456", "1000000.1234567890123456",
    "1.123456789012345", "1.12345678901234567", "01.1234567890123456", "-1.1234567890123456",
    "%00", "0.1234567890123456%00", "%ZZ", "%E0%A4%A", "%2F", "..", "x".repeat(5000), "💥", "%F0%9F%92%A5",
  ),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: "binary", maxLength: 20 }).map(encodeURIComponent),
  fc.tuple(fc.nat(20), fc.stringMatching(/^\d{16}$/)).map(([shard, digits]) => `${shard}.${digits}`),
);

const names = fc.oneof(fc.string({ maxLength: 20 }).map(encodeURIComponent), fc.constantFrom("g1", "%00", "x".repeat(300), "a%2Fb"));

/** A request line of the GatewayWorker routes, or a wrong method on one. */
const routes = fc.tuple(clientIds, names).chain(([id, name]) => fc.constantFrom(
  ["GET", `/clients/${id}`], ["POST", `/clients/${id}/uid`], ["DELETE", `/clients/${id}/uid`],
  ["DELETE", `/clients/${id}/uid/${name}`], ["POST", `/clients/${id}/groups`], ["DELETE", `/clients/${id}/groups/${name}`],
  ["PUT", `/clients/${id}/session`], ["PATCH", `/clients/${id}/session`], ["POST", `/clients/${id}/close`],
  ["GET", `/uids/${name}/clients`], ["GET", `/groups/${name}/clients`], ["DELETE", `/groups/${name}`],
  ["PATCH", `/clients/${id}`], ["PUT", `/clients/${id}/uid`], ["GET", `/clients/${id}/session`], ["POST", `/clients/${id}/groups/${name}`],
));

/** Bodies: any JSON, the routes' fields with values of any type, and text that is no JSON. */
const bodies = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ uid: fc.jsonValue(), group: fc.jsonValue(), session: fc.jsonValue(), message: fc.jsonValue() }, { requiredKeys: [] })
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 100 }),
  fc.constant(undefined),
);

describe("Hostile input to the GatewayWorker backend routes", () => {
  it("Should answer any client id, name, method and body with a JSON answer and a 4xx or 200, never 500", async () => {
    await fc.assert(
      fc.asyncProperty(routes, bodies, async ([method, path], body) => {
        await expectClearAnswer(method, path, method === "GET" ? undefined : body);
      }),
      { numRuns: 150 },
    );
  });

  it("Should answer any body to a connected client's routes with 200 or a 4xx, and keep the client working", async () => {
    const uid = unique("hc");
    const { client, clientId } = await gatewayConnect();
    const ops = fc.constantFrom("POST uid", "POST groups", "PUT session", "PATCH session");
    await fc.assert(
      fc.asyncProperty(ops, bodies, async (op, body) => {
        const [method, route] = op.split(" ");
        await expectClearAnswer(method, `/clients/${clientId}/${route}`, body);
      }),
      { numRuns: 120 },
    );
    expect((await api(`/clients/${clientId}/uid`, { json: { uid } })).status).toBe(200);
    expect((await getJson(`/clients/${clientId}`)).online).toBe(true);
    expect(await push({ uid, data: "still here" })).toMatchObject({ delivered: 1 });
    await client.waitFor(1);
    expect(client.messages).toContain("still here");
  });

  it("Should refuse a session over 8 KiB however it is built, with 413 or 400, and keep the old one", async () => {
    const { clientId } = await gatewayConnect();
    const session = (s: unknown) => JSON.stringify({ session: s });
    await expectClearAnswer("PUT", `/clients/${clientId}/session`, session({ keep: 1 }));
    const deep = (n: number) => JSON.parse("[".repeat(n) + "]".repeat(n));
    const huge = [
      { big: "x".repeat(9000) },
      { many: Array.from({ length: 3000 }, (_, i) => i) },
      Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])),
      { nested: deep(4000) }, // 8000 bytes: small enough, but deeper than the stack of a merge or an RPC
      { nested: deep(5000) },
      { nested: deep(20000) },
      { emoji: "💥".repeat(2100) },
    ];
    for (const value of huge) {
      for (const method of ["PUT", "PATCH"]) {
        const { status } = await expectClearAnswer(method, `/clients/${clientId}/session`, session(value));
        expect([400, 413]).toContain(status);
      }
    }
    expect((await getJson(`/clients/${clientId}`)).session).toEqual({ keep: 1 });
    // As deep as PHP's json_encode goes by default is fine.
    expect((await expectClearAnswer("PUT", `/clients/${clientId}/session`, session({ n: deep(511) }))).status).toBe(200);
    expect((await expectClearAnswer("PATCH", `/clients/${clientId}/session`, session({ n: deep(511) }))).status).toBe(200);
    expect((await getJson(`/clients/${clientId}`)).session).toEqual({ n: deep(511) });
  });

  it("Should keep a session key named __proto__ or constructor as data, on set and on merge", async () => {
    const { clientId } = await gatewayConnect();
    const send = (method: string, json: string) => expectClearAnswer(method, `/clients/${clientId}/session`, `{"session":${json}}`);
    expect((await send("PUT", '{"__proto__":{"a":1},"constructor":{"b":2}}')).status).toBe(200);
    expect(JSON.stringify((await getJson(`/clients/${clientId}`)).session)).toBe('{"__proto__":{"a":1},"constructor":{"b":2}}');
    expect((await send("PATCH", '{"__proto__":{"c":3},"constructor":{"b":4},"toString":1}')).status).toBe(200);
    expect(JSON.stringify((await getJson(`/clients/${clientId}`)).session))
      .toBe('{"__proto__":{"a":1,"c":3},"constructor":{"b":4},"toString":1}');
  });

  it("Should refuse a body that is not JSON, or not sent as JSON, with 400 or 415", async () => {
    const { clientId } = await gatewayConnect();
    for (const route of ["uid", "groups", "session", "close"]) {
      const method = route === "session" ? "PUT" : "POST";
      expect((await expectClearAnswer(method, `/clients/${clientId}/${route}`, "{not json")).status).toBe(400);
      expect((await expectClearAnswer(method, `/clients/${clientId}/${route}`, '{"uid":"a"}', "text/plain")).status).toBe(415);
      expect((await expectClearAnswer(method, `/clients/${clientId}/${route}`, new Uint8Array([0x7b, 0xff, 0x7d]))).status).toBe(400);
    }
    expect((await getJson(`/clients/${clientId}`)).online).toBe(true);
  });
});
