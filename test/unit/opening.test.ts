import { describe, expect, it } from "vitest";
import { OpeningFrames } from "../../src/gateway/opening";

/** A fake socket log and a `later` the test runs by hand (the gateway uses setTimeout 0). */
function setup() {
  const sent: string[] = [];
  const timers: (() => void)[] = [];
  const opening = new OpeningFrames<string>((ws, text) => (sent.push(`${ws}:${text}`), true), (run) => void timers.push(run));
  return { sent, timers, opening };
}

describe("OpeningFrames", () => {
  it("Should hold a new socket's frames until the timer after release, then send them in order", () => {
    const { sent, timers, opening } = setup();
    opening.hold("a");
    expect(opening.queue("a", "1")).toBe(true);
    expect(opening.queue("a", "2")).toBe(true);
    opening.release("a");
    expect(opening.queue("a", "3")).toBe(true);
    expect(sent).toEqual([]);
    timers.forEach((run) => run());
    expect(sent).toEqual(["a:1", "a:2", "a:3"]);
    expect(opening.queue("a", "4")).toBe(false);
  });

  it("Should let frames of a socket it does not hold through at once", () => {
    const { opening } = setup();
    opening.hold("a");
    expect(opening.queue("b", "x")).toBe(false);
  });

  it("Should send the held frames at once on flush, and nothing more when the timer fires", () => {
    const { sent, timers, opening } = setup();
    opening.hold("a");
    opening.queue("a", "1");
    opening.release("a");
    opening.flush("a");
    expect(sent).toEqual(["a:1"]);
    timers.forEach((run) => run());
    expect(sent).toEqual(["a:1"]);
  });

  it("Should forget a dropped socket's frames and send none of them", () => {
    const { sent, timers, opening } = setup();
    opening.hold("a");
    opening.queue("a", "1");
    opening.drop("a");
    opening.release("a");
    timers.forEach((run) => run());
    expect(sent).toEqual([]);
    expect(opening.queue("a", "2")).toBe(false);
  });

  it("Should stop at the first frame the socket refuses (it closed meanwhile)", () => {
    const tried: string[] = [];
    const opening = new OpeningFrames<string>((_ws, text) => (tried.push(text), false), () => {});
    opening.hold("a");
    opening.queue("a", "1");
    opening.queue("a", "2");
    opening.flush("a");
    expect(tried).toEqual(["1"]);
    expect(opening.queue("a", "3")).toBe(false);
  });
});
