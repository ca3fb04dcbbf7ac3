import { randomUUID } from "node:crypto";
import { listenForDataChanges, type DataChanges, type DataChangesOptions, type Db } from "@subnet-review/db";

/**
 * The database's data version: an opaque token that changes whenever committed data may have changed, whoever
 * wrote (this api, another replica, the CLI's ingest or an import). Something built from data read after the
 * token was V is current while the token is still V. Two ways to know it:
 *
 * - Notified (while a server holds it, see retain()): every table's trigger sends NOTIFY data_changed when a
 *   write commits (migration 20261201163000_data_changed_notify), heard on a dedicated connection
 *   (@subnet-review/db's listenForDataChanges). The token is a counter of the changes heard, so reading it costs
 *   no query. Writes through this api bump it before they are acknowledged (changed()); other processes' writes
 *   show once their notification arrives, a few milliseconds after their commit.
 * - Asked (before the listener is live, while it is down, and on the embedded PGlite, whose socket server does not
 *   deliver one connection's notifications to another): the database's current snapshot as text
 *   (pg_current_snapshot(): every commit anywhere on the server changes it), read on every call. Reads are shared:
 *   while one query is in flight, callers wait for the next one, which starts after it (a query that began before
 *   a caller arrived could predate a write acknowledged before that caller), so at most one query runs at a time.
 *
 * The notified token carries a per-process nonce and a count of (re)connections: a token from before a restart, or
 * from before a dropped connection (whose missed notifications cannot be known), is never current again.
 */
export class DataVersion {
  private running: Promise<string> | null = null;
  private queued: Promise<string> | null = null;

  private readonly nonce = randomUUID().slice(0, 8);
  private listener: DataChanges | null = null;
  private holders = 0;
  private live = false;
  /** Bumped each time notifications become live: what was heard before says nothing about what was missed. */
  private epoch = 0;
  private changes = 0;
  private readonly subscribers = new Set<() => void>();

  constructor(private readonly db: Db) {}

  /** Whether the version is being learnt from notifications (no query per call). */
  get notified(): boolean {
    return this.live;
  }

  current(): Promise<string> {
    if (this.live) return Promise.resolve(`${this.nonce}.${this.epoch}.${this.changes}`);
    if (!this.running) return this.begin();
    this.queued ??= this.running.then(
      () => this.afterRunning(),
      () => this.afterRunning(),
    );
    return this.queued;
  }

  /** A write committed (through this process, or heard of): the version moves on and subscribers are told. */
  changed(): void {
    this.changes++;
    for (const subscriber of this.subscribers) subscriber();
  }

  /** Calls `subscriber` after each change this process learns of; returns the unsubscribe. */
  subscribe(subscriber: () => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /**
   * Starts listening for other processes' writes while at least one holder (an api server) holds it; returns the
   * release. Without a holder every call asks the database. The first holder's options apply.
   */
  retain(options?: DataChangesOptions): () => Promise<void> {
    if (this.holders++ === 0) {
      this.listener = listenForDataChanges(
        this.db,
        {
          onChange: () => this.changed(),
          onState: (state) => {
            if (state === "live") this.epoch++;
            this.live = state === "live";
          },
        },
        options,
      );
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (--this.holders > 0) return;
      const listener = this.listener;
      this.listener = null;
      this.live = false;
      await listener?.close();
    };
  }

  private afterRunning(): Promise<string> {
    this.queued = null;
    return this.begin();
  }

  private begin(): Promise<string> {
    const query = this.db.$queryRaw<{ v: string }[]>`SELECT pg_current_snapshot()::text AS v`.then((rows) => `s:${rows[0]!.v}`);
    const running = query.finally(() => {
      if (this.running === running) this.running = null;
    });
    this.running = running;
    return running;
  }
}

const versions = new WeakMap<Db, DataVersion>();

/** The one shared version of a database client. */
export function dataVersionOf(db: Db): DataVersion {
  let v = versions.get(db);
  if (!v) versions.set(db, (v = new DataVersion(db)));
  return v;
}
