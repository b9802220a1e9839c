/**
 * A SQLite table made by its first write: a Durable Object that never needs it writes nothing,
 * and reading one that does not exist costs one lookup (remembered, as only this object makes it).
 */
export class LazyTable {
  private ready: boolean | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly name: string,
    /** Its `CREATE TABLE IF NOT EXISTS …` statement. */
    private readonly create: string,
  ) {}

  /** Whether the table exists (looked up once). */
  exists(): boolean {
    this.ready ??= this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", this.name).toArray().length > 0;
    return this.ready;
  }

  /** Makes the table unless it exists. */
  make(): void {
    if (this.exists()) return;
    this.sql.exec(this.create);
    this.ready = true;
  }
}
