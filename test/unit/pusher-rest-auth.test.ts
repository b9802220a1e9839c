import { describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../../src/gateway/pusher/auth";
import { verifyRestRequest, type RestRequest } from "../../src/gateway/pusher/rest-auth";

// Pusher's worked example (library_auth_reference/rest-api.md, "Worked authentication example").
const app = { key: "278d425bdf160c739803", secret: "7ad3773142a6692b25b8" };
const BODY = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}';
const TIMESTAMP = 1353088179;
const QUERY =
  "auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f" +
  "&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c";
const example: RestRequest = { method: "POST", path: "/apps/3/events", query: QUERY, body: BODY };

const reason = async (request: RestRequest, now = TIMESTAMP) => {
  const result = await verifyRestRequest(request, app, now);
  return result.ok ? "ok" : result.reason;
};

/** Signs like the SDKs: sorted `key=value` pairs, unescaped, then the signature appended. */
async function signed(method: string, path: string, params: Record<string, string>, body = ""): Promise<string> {
  const all = { auth_key: app.key, auth_timestamp: String(TIMESTAMP), auth_version: "1.0", ...params };
  const query = Object.keys(all)
    .sort()
    .map((k) => `${k}=${all[k as keyof typeof all]}`)
    .join("&");
  return `${query}&auth_signature=${await hmacSha256Hex(app.secret, `${method}\n${path}\n${query}`)}`;
}

describe("pusher REST signatures", () => {
  it("Should accept Pusher's worked example, body_md5 computed by the Workers runtime's MD5", async () => {
    expect(await reason(example)).toBe("ok");
    expect(await reason({ ...example, query: `?${QUERY}` })).toBe("ok");
    expect(await reason({ ...example, body: new TextEncoder().encode(BODY) })).toBe("ok");
  });

  it("Should refuse the example when anything it covers changes", async () => {
    expect(await reason({ ...example, body: BODY.replace("foo", "bar") })).toBe("body_md5 does not match the body");
    expect(await reason({ ...example, path: "/apps/4/events" })).toBe("auth_signature does not match the request");
    expect(await reason({ ...example, method: "PUT" })).toBe("auth_signature does not match the request");
    expect(await reason({ ...example, query: `${QUERY}&socket_id=1.1` })).toBe("auth_signature does not match the request");
    expect(await reason({ ...example, query: QUERY.replace(/da45/, "da46") })).toBe("auth_signature does not match the request");
  });

  it("Should accept a timestamp within 600 s either way and refuse a stale or future one", async () => {
    expect(await reason(example, TIMESTAMP + 600)).toBe("ok");
    expect(await reason(example, TIMESTAMP - 600)).toBe("ok");
    expect(await reason(example, TIMESTAMP + 601)).toBe("auth_timestamp is more than 600 s from the server's clock");
    expect(await reason(example, TIMESTAMP - 601)).toMatch(/more than 600 s/);
  });

  it("Should say which authentication parameter is missing or wrong", async () => {
    const without = (name: string) => QUERY.split("&").filter((p) => !p.startsWith(`${name}=`)).join("&");
    expect(await reason({ ...example, query: without("auth_signature") })).toBe("auth_signature is missing");
    expect(await reason({ ...example, query: without("auth_key") })).toBe("auth_key is missing or not this app's key");
    expect(await reason({ ...example, query: QUERY.replace(app.key, "otherkey") })).toMatch(/not this app's key/);
    expect(await reason({ ...example, query: without("auth_version") })).toBe("auth_version must be 1.0");
    expect(await reason({ ...example, query: QUERY.replace("auth_version=1.0", "auth_version=2.0") })).toMatch(/1\.0/);
    expect(await reason({ ...example, query: without("auth_timestamp") })).toBe("auth_timestamp must be unix seconds");
    expect(await reason({ ...example, query: without("body_md5") })).toBe("body_md5 is missing for a non-empty body");
    expect(await reason({ ...example, query: `${QUERY}&x=%ZZ` })).toBe("query string is not valid percent-encoding");
  });

  it("Should sign GET queries unescaped and sorted, however the client escaped them on the wire", async () => {
    const path = "/apps/3/channels";
    const query = await signed("GET", path, { filter_by_prefix: "presence-", info: "user_count" });
    expect(await reason({ method: "GET", path, query, body: "" })).toBe("ok");
    // Keys are lowercased before sorting, values decoded: PHP's Guzzle escapes `,` and spaces.
    const spaced = await signed("GET", path, { filter_by_prefix: "a b,c", info: "user_count" });
    const escaped = spaced.replace("a b,c", "a%20b%2Cc").replace("filter_by_prefix", "Filter_By_Prefix");
    expect(await reason({ method: "get", path, query: escaped, body: "" })).toBe("ok");
    // Python's urlencode writes a space as "+"; Node's SDK does not escape a "+" at all.
    expect(await reason({ method: "GET", path, query: spaced.replace("a b,c", "a+b,c"), body: "" })).toBe("ok");
    const plus = await signed("GET", path, { filter_by_prefix: "a+b" });
    expect(await reason({ method: "GET", path, query: plus, body: "" })).toBe("ok");
  });

  it("Should check a path that was signed unescaped and sent escaped", async () => {
    const path = "/apps/3/users/ann smith/terminate_connections";
    const body = "{}";
    const md5 = "99914b932bd37a50b983c5e7c90ae93b"; // md5("{}")
    const query = await signed("POST", path, { body_md5: md5 }, body);
    expect(await reason({ method: "POST", path: "/apps/3/users/ann%20smith/terminate_connections", query, body })).toBe("ok");
  });

  it("Should require body_md5 to match an empty body when one is given", async () => {
    const path = "/apps/3/channels";
    const query = await signed("GET", path, { body_md5: "d41d8cd98f00b204e9800998ecf8427e" });
    expect(await reason({ method: "GET", path, query, body: "" })).toBe("ok");
    const wrong = await signed("GET", path, { body_md5: "00000000000000000000000000000000" });
    expect(await reason({ method: "GET", path, query: wrong, body: "" })).toBe("body_md5 does not match the body");
  });
});
