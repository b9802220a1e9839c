import { Hono } from "hono";
import { ApiError, errorBody } from "../../contract/errors";
import { readLimits, type Env } from "../../env";
import { logEvent } from "../../util/log";
import { deliver } from "../deliver";
import { readJsonBody } from "../http";
import { elementSpans, valueSpan } from "../json-spans";
import { MAX_BATCH, planMessage, type PlanResult } from "../push-schema";

/** `POST /push`: one message or a batch (JSON array) of up to 1000. */
export const pushRoutes = new Hono<{ Bindings: Env }>().post("/push", async (c) => {
  const limits = readLimits(c.env);
  const { value, text } = await readJsonBody(c, limits.maxBodyBytes);

  if (!Array.isArray(value)) {
    // The exact text travels on: `data` byte for byte, or a seed line whole.
    const planned = planMessage(value, limits.maxPayloadBytes, text.slice(...valueSpan(text)));
    if (!planned.ok) throw planned.error;
    const [result] = await deliver(c.env, [planned.plan]);
    if (!result.ok) throw result.error;
    return c.json(result);
  }

  if (value.length === 0) throw new ApiError(400, "bad_request", "batch is empty");
  if (value.length > MAX_BATCH) throw new ApiError(400, "bad_request", `batch holds at most ${MAX_BATCH} messages`);
  const spans = elementSpans(text);
  const source = (i: number) => (spans.length === value.length ? text.slice(...spans[i]) : undefined);
  const planned: PlanResult[] = value.map((item, i) => planMessage(item, limits.maxPayloadBytes, source(i)));
  const plans = planned.flatMap((p) => (p.ok ? [p.plan] : []));
  const delivered = await deliver(c.env, plans);
  let next = 0;
  const results = planned.map((p) => {
    const result = p.ok ? delivered[next++] : p;
    if (result.ok) return result;
    logEvent("push_rejected", { code: result.error.code, status: result.error.status });
    return { ok: false, ...errorBody(result.error) };
  });
  return c.json({ results });
});
