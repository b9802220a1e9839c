import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  PUSHER_CODES,
  cacheMiss,
  connectionEstablished,
  errorFrame,
  eventFrame,
  memberAdded,
  memberRemoved,
  parseClientFrame,
  pingFrame,
  pongFrame,
  signinSuccess,
  subscriptionError,
  subscriptionSucceeded,
} from "../../src/gateway/pusher/frames";

// pusher-js 8's own decoder and member list, from its TypeScript sources, so that our frames are
// read by the real client code. Those sources are not strict TypeScript: a computed path keeps
// tsc out of them (vitest compiles them).
type PusherEvent = { event: string; channel?: string; data?: any; user_id?: string };
interface ProtocolApi {
  decodeMessage(message: { data: string }): PusherEvent;
  processHandshake(message: { data: string }): { action: string; id?: string; activityTimeout?: number };
  getCloseAction(close: { code: number }): string | null;
}
interface MembersApi {
  count: number;
  me: unknown;
  setMyID(id: string): void;
  onSubscription(data: unknown): void;
  addMember(data: unknown): unknown;
  removeMember(data: unknown): unknown;
  get(id: string): { id: string; info: unknown } | null;
}
const SRC = "pusher-js/src/core/";
const Protocol: ProtocolApi = (await import(/* @vite-ignore */ `${SRC}connection/protocol/protocol`)).default;
const Members: new () => MembersApi = (await import(/* @vite-ignore */ `${SRC}channels/members`)).default;

/** What pusher-js's message listener hands to channels and the connection. */
const decode = (frame: string) => Protocol.decodeMessage({ data: frame });

describe("pusher frames: parsing client frames", () => {
  it("Should parse the frames pusher-js sends, byte for byte as it sends them", () => {
    // pusher-js: send_event(name, data, channel) = JSON.stringify({ event, data, channel? }).
    expect(parseClientFrame('{"event":"pusher:ping","data":{}}')).toEqual({ ok: true, frame: { type: "ping" } });
    expect(parseClientFrame('{"event":"pusher:pong","data":{}}')).toEqual({ ok: true, frame: { type: "pong" } });
    expect(parseClientFrame('{"event":"pusher:subscribe","data":{"auth":"","channel":"orders"}}')).toEqual({
      ok: true,
      frame: { type: "subscribe", channel: "orders" },
    });
    expect(parseClientFrame('{"event":"pusher:unsubscribe","data":{"channel":"orders"}}')).toEqual({
      ok: true,
      frame: { type: "unsubscribe", channel: "orders" },
    });
  });

  it("Should keep a presence subscription's channel_data as the exact string that was signed", () => {
    const channelData = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}';
    const text = JSON.stringify({
      event: "pusher:subscribe",
      data: { auth: "key:sig", channel_data: channelData, channel: "presence-foobar" },
    });
    expect(parseClientFrame(text)).toEqual({
      ok: true,
      frame: { type: "subscribe", channel: "presence-foobar", auth: "key:sig", channelData },
    });
  });

  it("Should parse a signin and a client event", () => {
    const userData = '{"id":"12345"}';
    expect(parseClientFrame(JSON.stringify({ event: "pusher:signin", data: { auth: "k:s", user_data: userData } }))).toEqual({
      ok: true,
      frame: { type: "signin", auth: "k:s", userData },
    });
    const text = JSON.stringify({ event: "client-typing", data: { who: "ann" }, channel: "private-chat" });
    expect(parseClientFrame(text)).toEqual({
      ok: true,
      frame: { type: "client-event", event: "client-typing", channel: "private-chat", data: '{"who":"ann"}' },
    });
  });

  it("Should accept data sent JSON-encoded, as some non-JS clients do", () => {
    const text = JSON.stringify({ event: "pusher:subscribe", data: JSON.stringify({ channel: "orders" }) });
    expect(parseClientFrame(text)).toEqual({ ok: true, frame: { type: "subscribe", channel: "orders" } });
  });

  it("Should relay a client event's string data as it is", () => {
    const result = parseClientFrame('{"event":"client-x","channel":"private-a","data":"plain text"}');
    expect(result).toMatchObject({ ok: true, frame: { data: "plain text" } });
  });

  it("Should refuse malformed frames with a message saying what is wrong", () => {
    const cases: Array<[string, RegExp]> = [
      ["not json", /not JSON/],
      ["[1,2]", /JSON object/],
      ['{"data":{}}', /"event"/],
      ['{"event":"pusher:subscribe","data":{}}', /data\.channel/],
      ['{"event":"pusher:subscribe","data":{"channel":"a","auth":5}}', /auth must be a string/],
      ['{"event":"pusher:subscribe","data":{"channel":"a","channel_data":{"user_id":1}}}', /channel_data/],
      ['{"event":"pusher:unsubscribe"}', /data\.channel/],
      ['{"event":"pusher:signin","data":{"auth":"a"}}', /user_data/],
      ['{"event":"my-event","channel":"private-a","data":{}}', /must start with client-/],
      ['{"event":"pusher:connection_established"}', /unsupported event/],
      ['{"event":"client-x","data":{}}', /string channel/],
    ];
    for (const [text, message] of cases) {
      const result = parseClientFrame(text);
      expect(result.ok, text).toBe(false);
      if (!result.ok) {
        expect(result.error.message).toMatch(message);
        expect(result.error.code).toBeNull();
      }
    }
  });

  it("Should refuse a client event whose data or name is over the limits", () => {
    const big = parseClientFrame(JSON.stringify({ event: "client-x", channel: "private-a", data: "é".repeat(6000) }));
    expect(big).toMatchObject({ ok: false, error: { message: "event data is over 10240 bytes" } });
    const small = parseClientFrame(JSON.stringify({ event: "client-x", channel: "private-a", data: "12345" }), 4);
    expect(small.ok).toBe(false);
    const long = parseClientFrame(JSON.stringify({ event: `client-${"x".repeat(200)}`, channel: "private-a" }));
    expect(long).toMatchObject({ ok: false, error: { message: "event name is over 200 characters" } });
  });

  it("Should never throw, whatever text arrives", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ event: "pusher:subscribe", data: v }))), (text) => {
        const result = parseClientFrame(text);
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });
});

describe("pusher frames: server frames as pusher-js reads them", () => {
  it("Should send connection_established with a JSON-string data that pusher-js's handshake accepts", () => {
    const frame = connectionEstablished("3.1234567890123456", 120);
    expect(JSON.parse(frame)).toEqual({
      event: "pusher:connection_established",
      data: '{"socket_id":"3.1234567890123456","activity_timeout":120}',
    });
    expect(Protocol.processHandshake({ data: frame })).toEqual({
      action: "connected",
      id: "3.1234567890123456",
      activityTimeout: 120_000,
    });
  });

  it("Should write ping and pong byte for byte as pusher-js writes them, so the runtime can auto-answer pings", () => {
    // pusher-js core/connection/connection.ts: send_event("pusher:ping", {}) = JSON.stringify({ event, data }).
    expect(pingFrame()).toBe(JSON.stringify({ event: "pusher:ping", data: {} }));
    expect(pongFrame()).toBe(JSON.stringify({ event: "pusher:pong", data: {} }));
    expect(parseClientFrame(pingFrame())).toEqual({ ok: true, frame: { type: "ping" } });
  });

  it("Should send ping, pong and errors that pusher-js recognises", () => {
    expect(decode(pingFrame()).event).toBe("pusher:ping");
    expect(decode(pongFrame()).event).toBe("pusher:pong");
    expect(decode(errorFrame(4009, "Connection is unauthorized"))).toEqual({
      event: "pusher:error",
      channel: undefined,
      data: { code: 4009, message: "Connection is unauthorized" },
    });
    expect(JSON.parse(errorFrame(null, "x")).data).toEqual({ code: null, message: "x" });
  });

  it("Should give pusher-js's member list the presence members, one per user_id", () => {
    const frame = subscriptionSucceeded("presence-room", [
      { userId: "1", userInfo: { name: "Ann" } },
      { userId: "2" },
      { userId: "1", userInfo: { name: "Ann" } },
    ]);
    const event = decode(frame);
    expect(event.event).toBe("pusher_internal:subscription_succeeded");
    expect(event.channel).toBe("presence-room");
    expect(event.data).toEqual({ presence: { ids: ["1", "2"], hash: { 1: { name: "Ann" }, 2: null }, count: 2 } });
    const members = new Members();
    members.setMyID("2");
    members.onSubscription(event.data);
    expect(members.count).toBe(2);
    expect(members.me).toEqual({ id: "2", info: null });

    members.addMember(decode(memberAdded("presence-room", { userId: "3", userInfo: { name: "Cy" } })).data);
    expect(members.get("3")).toEqual({ id: "3", info: { name: "Cy" } });
    members.removeMember(decode(memberRemoved("presence-room", "1")).data);
    expect(members.count).toBe(2);
    expect(members.get("1")).toBeNull();
  });

  it("Should send a non-presence subscription_succeeded with empty data", () => {
    expect(JSON.parse(subscriptionSucceeded("orders"))).toEqual({
      event: "pusher_internal:subscription_succeeded",
      channel: "orders",
      data: "{}",
    });
  });

  it("Should send subscription_error on the channel with the object Echo's error callback gets", () => {
    const frame = subscriptionError("private-a", { type: "AuthError", error: "invalid signature", status: 401 });
    expect(decode(frame)).toEqual({
      event: "pusher:subscription_error",
      channel: "private-a",
      data: { type: "AuthError", error: "invalid signature", status: 401 },
    });
  });

  it("Should send cache_miss and signin_success as pusher-js reads them", () => {
    expect(decode(cacheMiss("cache-prices"))).toMatchObject({ event: "pusher:cache_miss", channel: "cache-prices" });
    const userData = '{"id":"12345","user_info":{"name":"Ann"}}';
    const event = decode(signinSuccess(userData));
    expect(event.event).toBe("pusher:signin_success");
    // pusher-js core/user.ts: this.user_data = JSON.parse(data.user_data)
    expect(JSON.parse(event.data.user_data)).toEqual({ id: "12345", user_info: { name: "Ann" } });
  });

  it("Should send events with string data, parsed by pusher-js when it is JSON, and user_id only when given", () => {
    expect(JSON.parse(eventFrame("orders", "OrderShipped", '{"id":1}'))).toEqual({
      event: "OrderShipped",
      channel: "orders",
      data: '{"id":1}',
    });
    expect(decode(eventFrame("orders", "OrderShipped", '{"id":1}')).data).toEqual({ id: 1 });
    expect(decode(eventFrame("orders", "e", "plain")).data).toBe("plain");
    expect(decode(eventFrame("presence-a", "client-x", "{}", "7"))).toMatchObject({ user_id: "7" });
  });

  it("Should use close codes whose ranges make pusher-js give up, back off or retry", () => {
    const action = (code: number) => Protocol.getCloseAction({ code });
    expect(action(PUSHER_CODES.APP_NOT_FOUND)).toBe("refused");
    expect(action(PUSHER_CODES.UNAUTHORIZED)).toBe("refused");
    expect(action(PUSHER_CODES.OVER_CAPACITY)).toBe("backoff");
    expect(action(PUSHER_CODES.RECONNECT)).toBe("retry");
    expect(action(PUSHER_CODES.PONG_NOT_RECEIVED)).toBe("retry");
    expect(action(PUSHER_CODES.CLIENT_EVENT_RATE_LIMIT)).toBe("refused");
  });
});
