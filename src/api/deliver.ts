/** Sends validated push plans to their rooms: one RPC per room per request. */
import { ApiError } from "../contract/errors";
import { isGatewayName, type GatewayName, type RoomName } from "../contract/names";
import { broadcastAll } from "../directory/client";
import { addTally, emptyTally, tallyOf, type BroadcastTally } from "../directory/types";
import { gatewayStub, roomStub, type Env } from "../env";
import type { RoomPushItem, RoomPushResult } from "../room/types";
import { errorText, logEvent } from "../util/log";
import type { PushPlan } from "./push-schema";

export interface PushAnswer {
  ok: true;
  id: string;
  delivered: number;
  queued: number;
  duplicate?: true;
}

export type DeliveryResult = PushAnswer | { ok: false; error: ApiError };

/** The items bound for one destination, and which plan each came from. */
interface Batch {
  items: RoomPushItem[];
  owners: number[];
}

/** Delivers `plans` (in order within each room) and returns one result per plan. */
export async function deliver(env: Env, plans: PushPlan[]): Promise<DeliveryResult[]> {
  const { rooms, broadcast } = groupByRoom(plans);
  const tallies = plans.map(emptyTally);
  await Promise.all([
    broadcast.items.length === 0 ? undefined : sendBroadcast(env, broadcast, tallies),
    ...[...rooms].map(([room, batch]) => sendToRoom(env, room, batch, tallies)),
  ]);
  return plans.map((plan, i) => answer(plan, tallies[i]));
}

/** One batch per target room, in plan order, plus the `all` messages. */
function groupByRoom(plans: PushPlan[]): { rooms: Map<RoomName | GatewayName, Batch>; broadcast: Batch } {
  const rooms = new Map<RoomName | GatewayName, Batch>();
  const broadcast: Batch = { items: [], owners: [] };
  plans.forEach((plan, index) => {
    const item: RoomPushItem = {
      message: plan.message,
      ttl: plan.ttl,
      dedupe: plan.givenId,
      exclude: plan.exclude.length > 0 ? plan.exclude : undefined,
      clientId: plan.clientId,
      broadcast: plan.all || undefined,
    };
    if (plan.all) {
      broadcast.items.push(item);
      broadcast.owners.push(index);
    }
    for (const room of plan.gateway ? [plan.gateway] : plan.rooms) {
      let batch = rooms.get(room);
      if (!batch) rooms.set(room, (batch = { items: [], owners: [] }));
      batch.items.push(item);
      batch.owners.push(index);
    }
  });
  return { rooms, broadcast };
}

async function sendBroadcast(env: Env, batch: Batch, tallies: BroadcastTally[]): Promise<void> {
  const results = await broadcastAll(env, batch.items);
  results.forEach((result, i) => addTally(tallies[batch.owners[i]], result));
}

async function sendToRoom(env: Env, room: RoomName | GatewayName, batch: Batch, tallies: BroadcastTally[]): Promise<void> {
  let results: RoomPushResult[];
  try {
    // A gateway connection's clientId: live only, like a `/ws` socket's; the gateway keeps its ids.
    results = isGatewayName(room) ? await gatewayStub(env, room).deliverTo(batch.items) : await roomStub(env, room).push(room, batch.items);
  } catch (err) {
    logEvent("push_failed", { room, messages: batch.items.length, error: errorText(err) }, "error");
    for (const owner of batch.owners) tallies[owner].failed++;
    return;
  }
  results.forEach((result, i) => addTally(tallies[batch.owners[i]], tallyOf(result)));
}

function answer(plan: PushPlan, tally: BroadcastTally): DeliveryResult {
  if (tally.failed > 0) {
    return { ok: false, error: new ApiError(503, "unavailable", "a target room did not answer; retry with the same id") };
  }
  const result: PushAnswer = { ok: true, id: plan.message.id, delivered: tally.delivered, queued: tally.queued };
  if (plan.givenId && tally.rooms > 0 && tally.duplicates === tally.rooms) result.duplicate = true;
  return result;
}
