import { describe, expect, it } from "vitest";
import { frameData, joinedFrame, leftFrame, parseGatewayFrame } from "../../src/gateway/gatewayworker/client-frames";

describe("GatewayWorker-mode client frames", () => {
  it("Should read join (with token and since), leave and publish", () => {
    expect(parseGatewayFrame('{"type":"join","group":"g1"}')).toEqual({ type: "join", group: "g1", token: undefined, since: null });
    expect(parseGatewayFrame('{"type":"join","group":"g1","token":"t","since":7}')).toEqual({ type: "join", group: "g1", token: "t", since: 7 });
    expect(parseGatewayFrame('{"type":"leave","group":"g1"}')).toEqual({ type: "leave", group: "g1" });
    expect(parseGatewayFrame('{"type":"publish","group":"g1","data":{"a":1},"echo":false}')).toEqual({ type: "publish", group: "g1", data: { a: 1 }, echo: false });
    expect(parseGatewayFrame('{"type":"message","data":{"say":"hi"}}')).toEqual({ type: "message", data: { say: "hi" } });
    expect(parseGatewayFrame('{"type":"message","data":null}')).toEqual({ type: "message", data: null });
    // A page's own message frame, without edgepush's data field, reaches the backend whole.
    expect(parseGatewayFrame('{"type":"message","text":"hi"}')).toEqual({ type: "other", data: { type: "message", text: "hi" } });
  });

  it("Should take a frame of no edgepush type as the page's own, for the backend: the JSON value, or the text when not JSON", () => {
    expect(parseGatewayFrame("nope")).toEqual({ type: "other", data: "nope" });
    expect(parseGatewayFrame("[1]")).toEqual({ type: "other", data: [1] });
    expect(parseGatewayFrame("42")).toEqual({ type: "other", data: 42 });
    expect(parseGatewayFrame('{"type":"say","roomId":"r1","content":"hi"}')).toEqual({ type: "other", data: { type: "say", roomId: "r1", content: "hi" } });
    expect(parseGatewayFrame('{"type":"pong"}')).toEqual({ type: "other", data: { type: "pong" } });
    expect(parseGatewayFrame('{"roomId":"r1"}')).toEqual({ type: "other", data: { roomId: "r1" } });
    expect(frameData('{"a":1}')).toEqual({ a: 1 });
    expect(frameData("{oops")).toBe("{oops");
  });

  it("Should refuse malformed frames of edgepush's types with the code and field that is wrong", () => {
    // The seed's chat page sends join without a group (its roomId is for Events::onMessage).
    expect(parseGatewayFrame('{"type":"join","roomId":"r1","userName":"Ann"}')).toMatchObject({ error: "bad_frame", message: expect.stringContaining("group") });
    expect(parseGatewayFrame('{"type":"join","group":"a b"}')).toMatchObject({ error: "bad_frame", message: expect.stringContaining("group") });
    expect(parseGatewayFrame('{"type":"join","group":"g","since":-1}')).toMatchObject({ error: "bad_frame", message: expect.stringContaining("since") });
    expect(parseGatewayFrame('{"type":"join","group":"g","since":1.5}')).toMatchObject({ error: "bad_frame" });
    expect(parseGatewayFrame('{"type":"join","group":"g","token":5}')).toMatchObject({ error: "bad_frame", message: expect.stringContaining("token") });
    expect(parseGatewayFrame('{"type":"publish","group":"g"}')).toMatchObject({ error: "bad_frame", message: expect.stringContaining("data") });
    expect(parseGatewayFrame('{"type":"publish","group":"g","data":1,"echo":"no"}')).toMatchObject({ error: "bad_frame" });
  });

  it("Should name the group or uid in joined and left frames", () => {
    expect(JSON.parse(joinedFrame("group:g1", 4))).toEqual({ type: "joined", room: "group:g1", group: "g1", seq: 4 });
    expect(JSON.parse(joinedFrame("uid:u1", 0))).toEqual({ type: "joined", room: "uid:u1", uid: "u1", seq: 0 });
    expect(JSON.parse(leftFrame("group:g1"))).toEqual({ type: "left", room: "group:g1", group: "g1" });
  });
});
