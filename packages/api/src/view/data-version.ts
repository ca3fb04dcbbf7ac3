import type { Db } from "@subnet-review/db";

/**
 * The database's data version: its current snapshot as text (xmin:xmax:in-progress ids). Every commit anywhere on
 * the server changes it (the committed transaction leaves the in-progress list or moves xmax), whoever wrote: this
 * api, another replica, the CLI's ingest or an import. Two equal versions mean the same committed data, so
 * something built from data read after version V is current while the version is still V. No table, trigger or
 * migration is needed; a write to another database on the same server only costs a rebuild.
 *
 * Reads are shared: while one query is in flight, callers wait for the next one, which starts after it (a query
 * that began before a caller arrived could predate a write acknowledged before that caller), so at most one query
 * runs at a time whatever the request rate.
 */
export class DataVersion {
  private running: Promise<string> | null = null;
  private queued: Promise<string> | null = null;

  constructor(private readonly db: Db) {}

  current(): Promise<string> {
    if (!this.running) return this.begin();
    this.queued ??= this.running.then(
      () => this.afterRunning(),
      () => this.afterRunning(),
    );
    return this.queued;
  }

  private afterRunning(): Promise<string> {
    this.queued = null;
    return this.begin();
  }

  private begin(): Promise<string> {
    const query = this.db.$queryRaw<{ v: string }[]>`SELECT pg_current_snapshot()::text AS v`.then((rows) => rows[0]!.v);
    const running = query.finally(() => {
      if (this.running === running) this.running = null;
    });
    this.running = running;
    return running;
  }
}

const versions = new WeakMap<Db, DataVersion>();

/** The one shared version reader of a database client. */
export function dataVersionOf(db: Db): DataVersion {
  let v = versions.get(db);
  if (!v) versions.set(db, (v = new DataVersion(db)));
  return v;
}
