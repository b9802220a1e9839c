/** Checks every WebSocket upgrade shares: the Origin allow-list and the Upgrade header. */
import { ApiError } from "../contract/errors";
import type { Env } from "../env";

/** `ALLOWED_ORIGINS`, when set: upgrades from other Origins get 403. */
export function checkOrigin(env: Env, origin: string | undefined): void {
  if (!env.ALLOWED_ORIGINS || origin === undefined) return;
  const allowed = env.ALLOWED_ORIGINS.split(",").map((o) => o.trim());
  if (!allowed.includes(origin)) throw new ApiError(403, "forbidden", `origin ${origin} is not in ALLOWED_ORIGINS`);
}

export function requireUpgrade(isUpgrade: boolean, path: string): void {
  if (!isUpgrade) throw new ApiError(426, "upgrade_required", `GET ${path} needs Upgrade: websocket`);
}
