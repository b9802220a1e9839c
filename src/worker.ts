import { Hono } from "hono";
import { backendAuth } from "./api/http";
import { clientRoutes } from "./api/routes/clients";
import { connectRoutes } from "./api/routes/connect";
import { controlRoutes } from "./api/routes/control";
import { devRoutes } from "./api/routes/dev";
import { gatewayConnectRoutes } from "./api/routes/gateway-connect";
import { memberRoutes } from "./api/routes/members";
import { pushRoutes } from "./api/routes/push";
import { pusherRestRoutes } from "./api/routes/pusher-rest";
import { ApiError, errorBody } from "./contract/errors";
import type { Env } from "./env";
import { errorText, logEvent } from "./util/log";
import { meterEnv, meterWorker } from "./util/meter";

export { Directory } from "./directory/directory";
export { GatewayObject } from "./gateway/gateway-object";
export { RoomObject } from "./room-object";

const app = new Hono<{ Bindings: Env }>();

// `npm run cost` counts this request and the stub calls it makes (COST_METER=true); otherwise a no-op.
app.use("*", async (c, next) => {
  meterWorker(c.env);
  c.env = meterEnv(c.env);
  await next();
});

// Upgrades first: nothing below may touch the 101 response's headers.
app.route("/", connectRoutes);
app.route("/", gatewayConnectRoutes);

app.get("/health", (c) => c.json({ ok: true }));
// Local dev only (LEGACY_UID_HANDSHAKE=true), no backend credential: tokens for the demo page.
app.route("/", devRoutes);
// Pusher's REST API is signed with the Pusher app's secret, not PUSH_SECRET.
app.route("/", pusherRestRoutes);

app.use("*", backendAuth);
app.route("/", pushRoutes);
app.route("/", controlRoutes);
app.route("/", memberRoutes);
app.route("/", clientRoutes);

app.notFound((c) =>
  c.json(errorBody(new ApiError(404, "not_found", "no such endpoint; see the README's API reference")), 404),
);

// The one place an error becomes a response: JSON, never a stack.
app.onError((err, c) => {
  const apiError = err instanceof ApiError ? err : new ApiError(500, "internal", "internal error");
  if (!(err instanceof ApiError)) logEvent("internal_error", { path: c.req.path, error: errorText(err) }, "error");
  return c.json(errorBody(apiError), apiError.status);
});

export default app satisfies ExportedHandler<Env>;
