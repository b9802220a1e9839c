/** Sends validated push plans to their rooms: one RPC per room per request. */
import { broadcastAll } from "./directory-client";
import type { Env } from "./env";
import { ApiError } from "./errors";
import { logEvent, roomStub } from "./http";
import type { RoomName } from "./names";
import type { PushPlan } from "./push-schema";
import type { RoomPushItem, RoomPushResult } from "./room-object";

export interface PushAnswer {
  ok: true;
  id: string;
  delivered: number;
  queued: number;
  duplicate?: true;
}

export type DeliveryResult = PushAnswer | { ok: false; error: ApiError };

interface RoomBatch {
  items: RoomPushItem[];
  owners: number[];
}

/** Delivers `plans` (in order within each room) and returns one result per plan. */
export async function deliver(env: Env, plans: PushPlan[]): Promise<DeliveryResult[]> {
  const batches = new Map<RoomName, RoomBatch>();
  const broadcast: RoomBatch = { items: [], owners: [] };
  plans.forEach((plan, index) => {
    const item: RoomPushItem = {
      message: plan.message,
      ttl: plan.ttl,
      dedupe: plan.givenId,
      exclude: plan.exclude.length > 0 ? plan.exclude : undefined,
      clientId: plan.clientId,
    };
    if (plan.all) {
      broadcast.items.push(item);
      broadcast.owners.push(index);
    }
    for (const room of plan.rooms) {
      const batch = batches.get(room) ?? { items: [], owners: [] };
      batch.items.push(item);
      batch.owners.push(index);
      batches.set(room, batch);
    }
  });

  const tallies = plans.map(() => ({ delivered: 0, queued: 0, duplicates: 0, rooms: 0, failed: false }));
  const broadcastDone = broadcast.items.length === 0 ? undefined : broadcastAll(env, broadcast.items).then((results) =>
    results.forEach((result, i) => {
      const tally = tallies[broadcast.owners[i]];
      tally.rooms += result.rooms;
      tally.delivered += result.delivered;
      tally.queued += result.queued;
      tally.duplicates += result.duplicates;
      if (result.failed > 0) tally.failed = true;
    }),
  );
  await Promise.all([
    broadcastDone,
    ...[...batches].map(async ([room, batch]) => {
      let results: RoomPushResult[];
      try {
        results = await roomStub(env, room).push(room, batch.items);
      } catch (err) {
        logEvent("push_failed", { room, messages: batch.items.length, error: String(err) });
        for (const owner of batch.owners) tallies[owner].failed = true;
        return;
      }
      results.forEach((result, i) => {
        const tally = tallies[batch.owners[i]];
        tally.rooms++;
        tally.delivered += result.delivered;
        if (result.queued) tally.queued++;
        if (result.duplicate) tally.duplicates++;
      });
    }),
  ]);

  return plans.map((plan, i): DeliveryResult => {
    const tally = tallies[i];
    if (tally.failed) {
      return { ok: false, error: new ApiError(503, "unavailable", "a target room did not answer; retry with the same id") };
    }
    const answer: PushAnswer = { ok: true, id: plan.message.id, delivered: tally.delivered, queued: tally.queued };
    if (plan.givenId && tally.rooms > 0 && tally.duplicates === tally.rooms) answer.duplicate = true;
    return answer;
  });
}
