/** Shared by the webhook suites in workerd. */

/**
 * `sql` with every statement's `rowsWritten` added up (cursors are read to the end first).
 * Table creation is left out: it happens once per object, never per event.
 */
export function countingSql(sql: SqlStorage): { sql: SqlStorage; written: () => number } {
  let written = 0;
  const wrapped = new Proxy(sql, {
    get(target, prop) {
      if (prop !== "exec") return Reflect.get(target, prop);
      return (query: string, ...bindings: SqlStorageValue[]) => {
        const cursor = target.exec(query, ...bindings);
        const rows = cursor.toArray();
        if (!query.startsWith("CREATE")) written += cursor.rowsWritten;
        return { toArray: () => rows, one: () => rows[0], rowsWritten: cursor.rowsWritten };
      };
    },
  });
  return { sql: wrapped as SqlStorage, written: () => written };
}
