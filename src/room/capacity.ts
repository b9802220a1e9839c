/**
 * What this process's WebSockets cost in file descriptors, so `npm run serve` can refuse a
 * connection (503) before workerd runs out of them: out of descriptors, workerd's accept() fails
 * and the process exits. Plain workerd runs the Worker and every Durable Object in one isolate, so
 * module state here is the process's. Pure: no Workers or Node APIs.
 */
import { ApiError } from "../contract/errors";

/** A WebSocket holds about two descriptors in workerd (measured with /proc/PID/fd). */
export const FDS_PER_SOCKET = 2;
/** A loaded room holds its SQLite database, WAL and shared-memory files. */
export const FDS_PER_ROOM = 3;

/**
 * Each room reports how many sockets it holds (a set, not an increment, so a report can be
 * repeated or come from a fresh instance after a wake without drifting).
 * @example
 * processSockets.report("uid:u1", ctx.getWebSockets().length);
 * if (!processSockets.fits(limit, room.size === 0)) refuse();
 */
export class SocketLedger {
  private readonly perRoom = new Map<string, number>();
  private total = 0;

  /** `room` now holds `count` sockets (0 forgets it). */
  report(room: string, count: number): void {
    const before = this.perRoom.get(room) ?? 0;
    this.total += count - before;
    if (count > 0) this.perRoom.set(room, count);
    else this.perRoom.delete(room);
  }

  get sockets(): number {
    return this.total;
  }

  get rooms(): number {
    return this.perRoom.size;
  }

  /** Descriptors the sockets and the rooms holding them use, by the estimates above. */
  files(): number {
    return FDS_PER_SOCKET * this.total + FDS_PER_ROOM * this.perRoom.size;
  }

  /** Whether one more socket (in a room that holds none yet, when `newRoom`) stays within `limit` files. */
  fits(limit: number, newRoom: boolean): boolean {
    return this.files() + FDS_PER_SOCKET + (newRoom ? FDS_PER_ROOM : 0) <= limit;
  }
}

/** The ledger of this isolate: the whole process under `npm run serve`. */
export const processSockets = new SocketLedger();

/** The 503 a connection gets when the process is at its FD_BUDGET (npm run serve sets it from its file limit). */
export function serverFull(budget: number): ApiError {
  return new ApiError(503, "server_full", `this server is at its connection capacity (FD_BUDGET: ${budget} file descriptors); try again later`);
}
