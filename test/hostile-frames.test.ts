import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { channelAuth, gatewayConnect, hmacHex, PUSHER_KEY, PUSHER_SECRET, pusherConnect, pusherRest, pusherSubscribe } from "./gateway-helpers";
import { api, type Client, push } from "./helpers";
import { unique } from "./presence-helpers";

/** Frames per connection stay under CLIENT_FRAMES_PER_10S (100 in this suite); each under MAX_FRAME_BYTES (64 KiB: more is 1009). */
const FRAMES_PER_RUN = 12;
// The largest junk frame below is ~20 KB: twelve of them stay under CLIENT_BYTES_PER_10S (300 000 in this suite).
const odd = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom("", "x".repeat(300), "private-x", "presence-x", "#server-to-user-x", "💥", "a\u0000b"));

/** Pusher frames: any text, any JSON, and the protocol's events with fields of any type. */
const pusherFrames = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.json({ maxDepth: 3 }),
  fc.record({
    event: fc.constantFrom("pusher:subscribe", "pusher:unsubscribe", "pusher:signin", "pusher:ping", "pusher:pong", "client-x", "pusher_internal:x"),
    channel: odd,
    data: fc.oneof(odd, fc.record({ channel: odd, auth: odd, channel_data: fc.oneof(odd, fc.constant("d".repeat(20_000))), user_data: odd }, { requiredKeys: [] })),
  }, { requiredKeys: ["event"] }).map((f) => JSON.stringify(f)),
);

// A frame handler that throws is caught and logged (gateway_error): the socket lives on, but the
// frame's answer is lost. Every error line logged while these tests run fails them.
let errors: { mock: { calls: unknown[][] }; mockRestore(): void };
beforeEach(() => void (errors = vi.spyOn(console, "error")));
afterEach(() => {
  const lines = errors.mock.calls.map((args: unknown[]) => String(args[0]));
  errors.mockRestore();
  expect(lines).toEqual([]);
});

/** What a Pusher socket may answer junk with. */
const PUSHER_ANSWERS = ["pusher:error", "pusher:subscription_error", "pusher:pong", "pusher_internal:subscription_succeeded", "pusher:cache_miss"];

/** Subscribes to a fresh public channel and triggers on it: the socket is still usable. */
async function expectPusherUsable(client: Client): Promise<void> {
  const channel = unique("alive");
  expect((await answerTo(client, channel, {})).event).toBe("pusher_internal:subscription_succeeded");
  expect((await pusherRest("POST", "/apps/1/events", { body: { name: "alive", channel, data: "yes" } })).status).toBe(200);
  // Wait for the event itself, not for one more frame: a junk subscribe or sign-in goes to a room
  // and back, so its answer may come after this channel's and before the event.
  const alive = () => client.messages.map((m) => JSON.parse(m)).filter((m) => m.event === "alive");
  while (alive().length === 0) {
    if (client.closeCode !== null) throw new Error(`closed with ${client.closeCode} ${client.closeReason}`);
    await client.waitFor(client.messages.length + 1);
  }
  expect(alive()).toEqual([{ event: "alive", channel, data: "yes" }]);
}

/** Subscribes and waits for this channel's answer, whatever junk answers come before it. */
async function answerTo(client: Client, channel: string, extra: Record<string, string>): Promise<any> {
  client.send(JSON.stringify({ event: "pusher:subscribe", data: { channel, ...extra } }));
  const find = () => client.messages.map((m) => JSON.parse(m)).find((m) => m.channel === channel && m.event !== "pusher_internal:member_added");
  while (!find()) {
    if (client.closeCode !== null) throw new Error(`closed with ${client.closeCode} ${client.closeReason}`);
    await client.waitFor(client.messages.length + 1);
  }
  return find();
}

/** Every frame is one of `events` (as JSON `event`), and the socket is open. */
function expectOnly(client: Client, events: string[]): void {
  for (const message of client.messages) expect(events, message.slice(0, 300)).toContain(JSON.parse(message).event);
  expect(client.closeCode).toBeNull();
}

describe("Hostile frames on Pusher connections", () => {
  it("Should answer any frames with at most Pusher's error frames, keep the socket usable and leave others alone", async () => {
    const bystander = await pusherConnect();
    const watched = unique("bystander");
    expect((await pusherSubscribe(bystander.client, watched)).event).toBe("pusher_internal:subscription_succeeded");
    await fc.assert(
      fc.asyncProperty(fc.array(pusherFrames, { minLength: 1, maxLength: FRAMES_PER_RUN }), async (frames) => {
        const { client } = await pusherConnect();
        for (const text of frames) client.send(text);
        await expectPusherUsable(client);
        expectOnly(client, [...PUSHER_ANSWERS, "alive"]);
        client.close();
      }),
      { numRuns: 25, endOnFailure: true },
    );
    expect((await pusherRest("POST", "/apps/1/events", { body: { name: "later", channel: watched, data: "x" } })).status).toBe(200);
    expect(JSON.parse((await bystander.client.waitFor(1))[0])).toMatchObject({ event: "later", channel: watched });
    expect(bystander.client.closeCode).toBeNull();
  });

  it("Should refuse correctly signed presence data and sign-ins of any shape with an error frame, and stay usable", async () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const userData = fc.oneof(
      odd.map((v) => JSON.stringify(v)),
      fc.record({ user_id: odd, id: odd, user_info: odd }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.constantFrom(`{"user_id":"u","user_info":${deep}}`, `{"id":"u","user_info":${deep}}`, `{"user_id":"${"u".repeat(60_000)}"}`, "not json"),
    );
    await fc.assert(
      fc.asyncProperty(userData, async (data) => {
        const { client, socketId } = await pusherConnect();
        const channel = unique("presence-odd");
        const answer = await answerTo(client, channel, { auth: await channelAuth(socketId, channel, data), channel_data: data });
        expect(["pusher_internal:subscription_succeeded", "pusher:subscription_error", "pusher:error"], JSON.stringify(answer).slice(0, 300)).toContain(answer.event);
        const signin = `${PUSHER_KEY}:${await hmacHex(PUSHER_SECRET, `${socketId}::user::${data}`)}`;
        client.send(JSON.stringify({ event: "pusher:signin", data: { auth: signin, user_data: data } }));
        await expectPusherUsable(client);
        expectOnly(client, [...PUSHER_ANSWERS, "pusher:signin_success", "pusher_internal:member_added", "alive"]);
        client.close();
      }),
      { numRuns: 30 },
    );
  });
});

/** `/gateway` frames: any text, any JSON, and edgepush's own frame types with fields of any type. */
const gatewayFrames = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.json({ maxDepth: 3 }),
  fc.record({
    type: fc.constantFrom("join", "leave", "publish", "message", "ping", "say"),
    group: odd, data: odd, echo: odd, since: odd, token: odd,
  }, { requiredKeys: ["type"] }).map((f) => JSON.stringify(f)),
).filter((t) => t !== "ping");

describe("Hostile frames on /gateway connections", () => {
  it("Should send a raw page nothing for any frames, and still deliver a push to its uid", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(gatewayFrames, { minLength: 1, maxLength: FRAMES_PER_RUN }), async (frames) => {
        const uid = unique("raw-junk");
        const { client, clientId } = await gatewayConnect(uid);
        for (const text of frames) client.send(text);
        const data = `alive ${uid}`;
        expect(await push({ uid, data })).toMatchObject({ delivered: 1 });
        await client.waitFor(1);
        // pusher:ping is answered by the runtime, like `ping`: the only other frame a raw page may see.
        expect(client.messages.filter((m) => m !== '{"event":"pusher:pong","data":{}}')).toEqual([data]);
        expect(client.closeCode).toBeNull();
        expect((await api(`/clients/${clientId}`).then((r) => r.json()) as any).online).toBe(true);
        client.close();
      }),
      { numRuns: 25 },
    );
  });

  it("Should answer an envelope connection's frames with error frames only, and still deliver a push to its uid", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(gatewayFrames, { minLength: 1, maxLength: FRAMES_PER_RUN }), async (frames) => {
        const uid = unique("env-junk");
        const { client } = await gatewayConnect(uid, { format: "envelope" });
        const start = client.messages.length;
        for (const text of frames) client.send(text);
        expect(await push({ uid, data: "alive" })).toMatchObject({ delivered: 1 });
        await client.waitFor(start + 1);
        const deadline = Date.now() + 5000;
        while (!client.messages.some((m) => JSON.parse(m).type === "push") && Date.now() < deadline) await client.waitFor(client.messages.length + 1).catch(() => {});
        const answers = client.messages.slice(start).map((m) => JSON.parse(m));
        expect(answers.filter((m) => m.type === "push").map((m) => m.data)).toEqual(["alive"]);
        for (const m of answers.filter((a) => !(a.type === "joined" && a.room === `uid:${uid}`))) {
          expect(["error", "push", "left", "pusher:pong"], JSON.stringify(m)).toContain(m.type ?? m.event);
        }
        expect(client.closeCode).toBeNull();
        client.close();
      }),
      { numRuns: 25 },
    );
  });
});
