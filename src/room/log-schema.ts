/**
 * The room's tables as earlier versions left them, brought to the current layout once: the log
 * keyed by seq plus a `seen` table becomes one table keyed by de-duplication key, and the tables
 * rooms kept of their directory reports go.
 */

/** Existing tables of the room; migrates an older layout. Returns which of `log`, `meta` exist now. */
export function migrateLog(sql: SqlStorage): { log: boolean; meta: boolean } {
  const tables = new Set(sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((r) => r.name));
  if (tables.has("log") && !columns(sql, "log").has("key")) migrate(sql, tables);
  return { log: tables.has("log"), meta: tables.has("meta") };
}

/** The current log table (keyed by de-duplication key, or `s:<seq>`) and the meta table. */
export function createTables(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS log (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, id TEXT NOT NULL, data TEXT, raw TEXT,
    ts INTEGER NOT NULL, expires INTEGER NOT NULL, keep INTEGER NOT NULL, pending INTEGER NOT NULL, bytes INTEGER NOT NULL,
    event TEXT) WITHOUT ROWID`);
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");
}

function columns(sql: SqlStorage, table: string): Set<string> {
  return new Set(sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().map((c) => c.name));
}

function migrate(sql: SqlStorage, tables: Set<string>): void {
  const event = columns(sql, "log").has("event") ? "event" : "NULL";
  sql.exec("ALTER TABLE log RENAME TO log_v1");
  createTables(sql);
  // pending 0 used to mean "not queued" (2 now); a seen id becomes a record without a message.
  sql.exec(`INSERT INTO log (key, seq, id, data, raw, ts, expires, keep, pending, bytes, event)
    SELECT 's:' || seq, seq, id, data, raw, ts, expires, expires, CASE pending WHEN 1 THEN 1 ELSE 2 END, bytes, ${event} FROM log_v1`);
  if (tables.has("seen")) {
    sql.exec(`INSERT OR IGNORE INTO log (key, seq, id, data, raw, ts, expires, keep, pending, bytes, event)
      SELECT 'i:' || key, 0, '', NULL, NULL, 0, 0, expires, 2, 0, NULL FROM seen`);
  }
  for (const old of ["log_v1", "seen", "directory_uids", "directory_meta"]) sql.exec(`DROP TABLE IF EXISTS ${old}`);
  tables.add("meta");
}
