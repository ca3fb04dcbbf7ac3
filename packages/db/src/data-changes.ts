import { randomUUID } from "node:crypto";
import { backoffDelayMs, type BackoffOptions } from "@subnet-review/core";
import pg from "pg";
import { databaseUrlOf, type Db } from "./client.ts";

/** The channel every table's trigger notifies when a write commits (migration 20261201163000_data_changed_notify). */
export const DATA_CHANGED_CHANNEL = "data_changed";

/** How the listening connection names itself in pg_stat_activity (tests find it there to cut it). */
export const DATA_CHANGES_APPLICATION = "subnet-review data changes";

/** Payloads this module sends to itself; the triggers send table names, which never start with it. */
const PROBE_PREFIX = "probe:";

/**
 * "live": every committed write is being notified; anything else: it is not (yet, or any more), and whoever relies
 * on the notifications must ask the database instead. "closed": close() was called.
 */
export type DataChangesState = "connecting" | "live" | "down" | "closed";

export interface DataChangesOptions {
  /** How long the probe notification may take to arrive before this connection is taken as deaf (default 2 s). */
  probeTimeoutMs?: number;
  /** How often the live connection is checked with a query, and how long that may take (default 2 s). */
  heartbeatMs?: number;
  /** Reconnection delays after a failure (default from 250 ms doubling to 30 s). */
  retry?: BackoffOptions;
}

export interface DataChangesHandlers {
  /** A write to `table` committed (called only while live). */
  onChange(table: string): void;
  /** The state changed; on "live" every later commit is notified, so what was built before may be stale. */
  onState(state: DataChangesState): void;
}

export interface DataChanges {
  readonly state: DataChangesState;
  close(): Promise<void>;
}

const DEFAULTS = { probeTimeoutMs: 2_000, heartbeatMs: 2_000, retry: { baseMs: 250, maxMs: 30_000 } };

/**
 * Listens for committed writes to `db`'s database on a dedicated connection (LISTEN data_changed), whoever writes:
 * this process, another api replica, the CLI's ingest or import, plain SQL.
 *
 * The connection counts as live only once a probe sent from another connection has reached it: a server can accept
 * LISTEN and still never deliver other sessions' notifications to it. Two do here: the embedded PGlite, whose
 * socket server runs every client on one shared session and returns a notification only to the connection whose
 * query produced it, and a transaction-pooling proxy (PgBouncer), which may route LISTEN to a session nobody
 * writes through. Until live, after a dropped connection or a failed heartbeat, the state is not "live" and
 * reconnection is retried with backoff (a deaf server costs one probe per retry, at most every 30 s).
 */
export function listenForDataChanges(db: Db, handlers: DataChangesHandlers, options: DataChangesOptions = {}): DataChanges {
  const url = databaseUrlOf(db);
  const { probeTimeoutMs, heartbeatMs, retry } = { ...DEFAULTS, ...options };
  let state: DataChangesState = "connecting";
  let current: pg.Client | null = null;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  const setState = (next: DataChangesState) => {
    if (state === next || state === "closed") return;
    state = next;
    handlers.onState(next);
  };

  const fail = (client: pg.Client) => {
    if (current !== client) return;
    current = null;
    clearInterval(heartbeat);
    client.end().catch(() => undefined);
    if (state === "closed") return;
    setState("down");
    retryTimer = setTimeout(connect, backoffDelayMs(failures++, retry));
    retryTimer.unref();
  };

  const connect = () => {
    if (state === "closed" || url === undefined) return;
    const client = new pg.Client({ connectionString: url, application_name: DATA_CHANGES_APPLICATION, keepAlive: true });
    current = client;
    const probe = `${PROBE_PREFIX}${randomUUID()}`;
    client.on("notification", ({ channel, payload = "" }) => {
      if (current !== client || channel !== DATA_CHANGED_CHANNEL) return;
      // Synchronously: notifications that follow the probe in the same read are changes to count.
      if (payload === probe) {
        failures = 0;
        setState("live");
      } else if (state === "live" && !payload.startsWith(PROBE_PREFIX)) {
        handlers.onChange(payload);
      }
    });
    client.on("error", () => fail(client));
    client.on("end", () => fail(client));
    listen(client, url, probe).then(
      (heard) => {
        if (current !== client) return;
        if (!heard) {
          // Deaf: stop listening first (on PGlite the session, and so its LISTEN, outlives this connection).
          client.query(`UNLISTEN ${DATA_CHANGED_CHANNEL}`).then(
            () => fail(client),
            () => fail(client),
          );
          return;
        }
        let checking = false;
        heartbeat = setInterval(() => {
          if (checking || current !== client) return;
          checking = true;
          withTimeout(client.query("SELECT 1"), heartbeatMs).then(
            () => (checking = false),
            () => fail(client),
          );
        }, heartbeatMs);
        heartbeat.unref();
      },
      () => fail(client),
    );
  };

  /** Connects, listens, sends the probe from a second connection; whether it arrived within probeTimeoutMs. */
  async function listen(client: pg.Client, url: string, probe: string): Promise<boolean> {
    await client.connect();
    await client.query(`LISTEN ${DATA_CHANGED_CHANNEL}`);
    const sender = new pg.Client({ connectionString: url, application_name: DATA_CHANGES_APPLICATION });
    // A connection dropped under it (the database closing) fails its query; unheard, the event would end the process.
    sender.on("error", () => undefined);
    await sender.connect();
    try {
      await sender.query("SELECT pg_notify($1, $2)", [DATA_CHANGED_CHANNEL, probe]);
    } finally {
      await sender.end();
    }
    const deadline = Date.now() + probeTimeoutMs;
    while (state !== "live" && current === client && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return state === "live";
  }

  if (url === undefined) state = "down";
  else connect();
  return {
    get state() {
      return state;
    },
    async close() {
      state = "closed";
      clearTimeout(retryTimer);
      clearInterval(heartbeat);
      const client = current;
      current = null;
      await client?.end().catch(() => undefined);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
