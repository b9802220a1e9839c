/**
 * Counters of what Cloudflare bills, for `npm run cost` only (var `COST_METER=true`): Durable
 * Object requests counted where they are made (every stub call and fetch), runtime invocations
 * counted where they land (alarms, WebSocket events), SQLite rows from the cursors' own
 * `rowsWritten` / `rowsRead`, and `setAlarm` calls (billed as one row written each). With the var
 * unset nothing is wrapped: the code paths are the production ones.
 */

/** What one measured stretch of work cost, by where it happened. */
export interface MeterReading {
  /** Durable Object requests by `Class.method` (`RoomObject.fetch` is an upgrade). */
  requests: Record<string, number>;
  /** Worker invocations (HTTP requests to the Worker). */
  workerRequests: number;
  /** Incoming WebSocket events by `Class.event` (billed at 20:1 as requests). */
  events: Record<string, number>;
  /** SQLite rows written by class, `setAlarm` calls included. */
  rowsWritten: Record<string, number>;
  rowsRead: Record<string, number>;
  alarmsSet: Record<string, number>;
}

interface Store {
  requests: Map<string, number>;
  events: Map<string, number>;
  workerRequests: number;
  alarms: Map<string, number>;
  cursors: { cls: string; cursor: SqlStorageCursor<Record<string, SqlStorageValue>> }[];
}

const store: Store = { requests: new Map(), events: new Map(), workerRequests: 0, alarms: new Map(), cursors: [] };

/** The var that turns metering on. */
export interface MeterVars {
  COST_METER?: string;
}

export function meterOn(vars: MeterVars): boolean {
  return vars.COST_METER === "true";
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Starts a measured stretch: every counter back to zero. */
export function resetMeter(): void {
  store.requests.clear();
  store.events.clear();
  store.alarms.clear();
  store.workerRequests = 0;
  store.cursors = [];
}

/** What was counted since the last reset (a cursor's rows are read when this is called). */
export function readMeter(): MeterReading {
  const rowsWritten: Record<string, number> = {};
  const rowsRead: Record<string, number> = {};
  for (const { cls, cursor } of store.cursors) {
    rowsWritten[cls] = (rowsWritten[cls] ?? 0) + cursor.rowsWritten;
    rowsRead[cls] = (rowsRead[cls] ?? 0) + cursor.rowsRead;
  }
  for (const [cls, n] of store.alarms) rowsWritten[cls] = (rowsWritten[cls] ?? 0) + n;
  return {
    requests: Object.fromEntries(store.requests),
    workerRequests: store.workerRequests,
    events: Object.fromEntries(store.events),
    rowsWritten,
    rowsRead,
    alarmsSet: Object.fromEntries(store.alarms),
  };
}

/** Counts one Worker invocation. */
export function meterWorker(vars: MeterVars): void {
  if (meterOn(vars)) store.workerRequests++;
}

/** Counts a runtime invocation of a Durable Object: `alarm` as a request, WebSocket events as events. */
export function meterEntry(vars: MeterVars, cls: string, entry: "alarm" | "webSocketMessage" | "webSocketClose" | "webSocketError"): void {
  if (!meterOn(vars)) return;
  if (entry === "alarm") bump(store.requests, `${cls}.alarm`);
  else bump(store.events, `${cls}.${entry}`);
}

/**
 * Installs the counters on a Durable Object's storage (rows and alarms) and answers the env its
 * code should use (stubs that count their calls). Off: answers `env` untouched.
 */
export function meterObject<E extends object>(ctx: DurableObjectState, env: E, cls: string): E {
  if (!meterOn(env as MeterVars)) return env;
  const sql = ctx.storage.sql;
  const exec = sql.exec.bind(sql);
  sql.exec = ((query: string, ...bindings: unknown[]) => {
    const cursor = exec(query, ...bindings);
    store.cursors.push({ cls, cursor });
    return cursor;
  }) as typeof sql.exec;
  const setAlarm = ctx.storage.setAlarm.bind(ctx.storage);
  ctx.storage.setAlarm = ((at: number | Date, options?: DurableObjectSetAlarmOptions) => {
    bump(store.alarms, cls);
    return setAlarm(at, options);
  }) as typeof ctx.storage.setAlarm;
  return meterEnv(env);
}

const NAMESPACES: Record<string, string> = { ROOMS: "RoomObject", DIRECTORY: "Directory", GATEWAYS: "GatewayObject" };

/** `env` with its Durable Object namespaces wrapped so that each stub call counts one request. */
export function meterEnv<E extends object>(env: E): E {
  if (!meterOn(env as MeterVars)) return env;
  const wrapped = { ...env } as Record<string, unknown>;
  for (const [binding, cls] of Object.entries(NAMESPACES)) {
    const ns = wrapped[binding] as DurableObjectNamespace | undefined;
    if (ns) wrapped[binding] = meterNamespace(ns, cls);
  }
  return wrapped as E;
}

function meterNamespace(ns: DurableObjectNamespace, cls: string): DurableObjectNamespace {
  return new Proxy(ns, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== "get" && prop !== "getByName") return typeof value === "function" ? value.bind(target) : value;
      return (...args: unknown[]) => meterStub((value as (...a: unknown[]) => DurableObjectStub).apply(target, args), cls);
    },
  });
}

function meterStub(stub: DurableObjectStub, cls: string): DurableObjectStub {
  return new Proxy(stub, {
    get(target, prop) {
      if (typeof prop === "symbol" || prop === "id" || prop === "name" || prop === "then") return Reflect.get(target, prop);
      return (...args: unknown[]) => {
        bump(store.requests, `${cls}.${prop}`);
        return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[prop](...args);
      };
    },
  });
}
