import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/contract/errors";
import { CACHE_TTL_S, triggerPlans } from "../../src/api/pusher-app";

const event = (fields: Partial<Parameters<typeof triggerPlans>[0]>) => ({ name: "e", data: "{}", channels: ["a"], info: [], ...fields });

describe("triggerPlans", () => {
  it("Should aim one plan at every channel's room, the user channel at the uid's room", () => {
    const [plan, ...rest] = triggerPlans(event({ channels: ["orders", "private-x", "#server-to-user-u1", "orders"] }), 1024);
    expect(rest).toEqual([]);
    expect(plan.rooms).toEqual(["group:orders", "group:private-x", "uid:u1"]);
    expect(plan).toMatchObject({ all: false, exclude: [], ttl: undefined, givenId: false });
  });

  it("Should keep cache channels' events for 30 minutes in a plan of their own", () => {
    const plans = triggerPlans(event({ channels: ["plain", "cache-a", "presence-cache-b"] }), 1024);
    expect(plans.map((p) => [p.rooms, p.ttl])).toEqual([[["group:plain"], undefined], [["group:cache-a", "group:presence-cache-b"], CACHE_TTL_S]]);
    expect(plans[0].message).toBe(plans[1].message);
  });

  it("Should give native sockets JSON data parsed and other text as a string, the event name beside it", () => {
    const [json] = triggerPlans(event({ name: "OrderShipped", data: '{"id":7}' }), 1024);
    expect(json.message).toMatchObject({ event: "OrderShipped", dataJson: '{"id":7}', raw: '{"id":7}' });
    const [text] = triggerPlans(event({ data: "not json" }), 1024);
    expect(text.message).toMatchObject({ dataJson: '"not json"', raw: "not json" });
  });

  it("Should exclude the socket_id", () => {
    expect(triggerPlans(event({ socketId: "1.2345" }), 1024)[0].exclude).toEqual(["1.2345"]);
  });

  it("Should refuse data over the payload limit and lone surrogates", () => {
    expect(() => triggerPlans(event({ data: "x".repeat(1025) }), 1024)).toThrow(ApiError);
    expect(() => triggerPlans(event({ data: "\uD800" }), 1024)).toThrow(/lone surrogate/);
  });
});
