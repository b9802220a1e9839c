/**
 * The Worker's side of GatewayWorker mode: finds the gateway that holds a client_id (the id names
 * its shard), turns a gateway's plain `OpResult` into the one ApiError, and gathers client lists
 * from the gateways that hold a room's subscribers.
 */
import { ApiError } from "../contract/errors";
import { gatewayName, gatewayOfClientId, roomOfClientId, type GatewayName, type RoomName } from "../contract/names";
import { liveGateways } from "../directory/client";
import { gatewayStub, roomStub, type Env } from "../env";
import { gatewayShards, isLiveShardNumber } from "../gateway/shards";
import type { OpResult } from "../gateway/types";
import type { GatewayApi } from "../rpc";
import { errorText, logEvent } from "../util/log";

type GatewayClients = ReturnType<GatewayApi["clients"]>;

/** Gateway-mode connections and their sessions, as the list routes answer them. */
export interface ClientList {
  client_ids: string[];
  sessions: Record<string, Record<string, unknown> | null>;
}

/**
 * The gateway holding `clientId`, or null when the id is well-formed but names a shard no
 * connection can be on (so it is not connected). A malformed id is 400 `invalid_name`; a `/ws`
 * socket's clientId is 400 `bad_request`: the backend does not bind those, their token does.
 */
export function gatewayOf(env: Env, clientId: string): DurableObjectStub<GatewayApi> | null {
  const shard = gatewayOfClientId(clientId);
  if (shard === null) {
    if (roomOfClientId(clientId) !== null) {
      throw new ApiError(400, "bad_request",
        `client ${clientId} is a /ws socket's clientId: the /clients routes are for /gateway connections (GatewayWorker mode); a /ws socket's rooms come from its token`);
    }
    throw new ApiError(400, "invalid_name", `client_id: ${JSON.stringify(clientId)} is not a client_id issued by edgepush (<shard>.<digits>)`);
  }
  return isLiveShardNumber(shard, gatewayShards(env.GATEWAY_SHARDS)) ? gatewayStub(env, gatewayName(shard)) : null;
}

/** The answer to a write that found no connection: the drop-in treats it as GatewayWorker's silent no-op. */
export function notConnected(clientId: string): ApiError {
  return new ApiError(404, "not_found", `client ${clientId} is not connected`);
}

/** Runs a write on the connection's gateway; throws the ApiError its result stands for. */
export async function clientWrite(
  env: Env, clientId: string, op: (gateway: DurableObjectStub<GatewayApi>) => Promise<OpResult>,
): Promise<void> {
  const gateway = gatewayOf(env, clientId);
  if (!gateway) throw notConnected(clientId);
  const result = await rpc(() => op(gateway), "client_op_failed", { clientId });
  if (!result.ok) throw new ApiError(result.status, result.code, result.message);
}

/** Gateway-mode connections subscribed to `room`, asked of each gateway the room lists. */
export async function roomClients(env: Env, room: RoomName): Promise<ClientList> {
  const { gateways } = await rpc(() => roomStub(env, room).subscribers(), "room_failed", { room });
  return gather(env, gateways, room);
}

/** Every gateway-mode connection of the deployment. */
export async function allClients(env: Env): Promise<ClientList> {
  return gather(env, await liveGateways(env), null);
}

async function gather(env: Env, gateways: GatewayName[], room: RoomName | null): Promise<ClientList> {
  const parts = await Promise.all(gateways.map((g) =>
    rpc<GatewayClients>(async () => gatewayStub(env, g).clients(room), "gateway_failed", { gateway: g, room })));
  const out: ClientList = { client_ids: [], sessions: {} };
  for (const part of parts) {
    out.client_ids.push(...part.clientIds);
    Object.assign(out.sessions, part.sessions);
  }
  return out;
}

/** One RPC; a Durable Object that does not answer is a 503 the caller may retry. */
export async function rpc<T>(call: () => Promise<T> | T, event: string, fields: Record<string, unknown>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    logEvent(event, { ...fields, error: errorText(err) }, "error");
    throw new ApiError(503, "unavailable", "a gateway or room did not answer; retry");
  }
}
