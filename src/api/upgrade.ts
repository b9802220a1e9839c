/** Checks every WebSocket upgrade shares: the Origin allow-list and the Upgrade header. */
import { ApiError } from "../contract/errors";
import { safeLimits, type Env } from "../env";
import { processSockets, serverFull } from "../room/capacity";

/** `ALLOWED_ORIGINS`, when set: upgrades from other Origins get 403. */
export function checkOrigin(env: Env, origin: string | undefined): void {
  if (!env.ALLOWED_ORIGINS || origin === undefined) return;
  const allowed = env.ALLOWED_ORIGINS.split(",").map((o) => o.trim());
  if (!allowed.includes(origin)) throw new ApiError(403, "forbidden", `origin ${origin} is not in ALLOWED_ORIGINS`);
}

export function requireUpgrade(isUpgrade: boolean, path: string): void {
  if (!isUpgrade) throw new ApiError(426, "upgrade_required", `GET ${path} needs Upgrade: websocket`);
}

/**
 * 503 `server_full` when this process is at FD_BUDGET (self-hosted: `npm run serve` sets it from
 * its file limit), judged as if the socket opened a room of its own; the room checks again exactly.
 */
export function checkCapacity(env: Env): void {
  const budget = safeLimits(env).fdBudget;
  if (!processSockets.fits(budget, true)) throw serverFull(budget);
}
