import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DATA_CHANGED_CHANNEL, DATA_CHANGES_APPLICATION, listenForDataChanges, type DataChangesState } from "../src/index.ts";
import { openTestDatabase } from "../src/testing.ts";

// Every committed write to a table is notified on data_changed by the migration's triggers, whoever writes; the
// listener hears them once its probe has arrived.
let open: Awaited<ReturnType<typeof openTestDatabase>>;
let writer: pg.Client;
beforeAll(async () => {
  open = await openTestDatabase();
  writer = new pg.Client({ connectionString: open.url });
  await writer.connect();
});
afterAll(async () => {
  await writer?.end();
  await open?.close();
});

describe("data change notifications", () => {
  it("every table has a statement-level trigger that notifies data_changed", async () => {
    const { rows } = await writer.query<{ table: string; triggers: string[] }>(
      `SELECT c.relname AS table,
              array(SELECT p.proname::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                    WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
                      -- statement level (bit 0 clear), AFTER (bit 1 clear), on INSERT, DELETE, UPDATE and TRUNCATE (bits 2-5)
                      AND t.tgtype & 1 = 0 AND t.tgtype & 2 = 0 AND t.tgtype & 60 = 60) AS triggers
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> '_migrations' ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThan(10);
    const without = rows.filter((r) => !r.triggers.includes("notify_data_changed")).map((r) => r.table);
    expect(without).toEqual([]);
  });

  it("tells each committed write's table to a live listener, and nothing of a rolled-back one", async () => {
    const heard: string[] = [];
    const states: DataChangesState[] = [];
    const changes = listenForDataChanges(open.db, { onChange: (table) => heard.push(table), onState: (s) => states.push(s) });
    try {
      await vi.waitFor(() => expect(changes.state).toBe("live"), { timeout: 5_000 });
      await writer.query("BEGIN");
      await writer.query(`INSERT INTO "Subnet" ("netuid", "name") VALUES (9001, 'rolled back')`);
      await writer.query("ROLLBACK");
      await writer.query(`INSERT INTO "Subnet" ("netuid", "name") VALUES (9002, 'kept')`);
      // The Prisma client's own connection is another writer.
      await open.db.experiment.create({ data: { name: "notified", description: "" } });
      await vi.waitFor(() => expect(heard).toEqual(["Subnet", "Experiment"]), { timeout: 2_000 });
      // A notification on the channel that is not a table's (a probe of another listener) is not a change.
      await writer.query("SELECT pg_notify($1, $2)", [DATA_CHANGED_CHANNEL, "probe:someone-else"]);
      await writer.query(`UPDATE "Subnet" SET "name" = 'renamed' WHERE "netuid" = 9002`);
      await vi.waitFor(() => expect(heard).toEqual(["Subnet", "Experiment", "Subnet"]), { timeout: 2_000 });
      expect(states).toEqual(["live"]);
    } finally {
      await changes.close();
    }
    expect(changes.state).toBe("closed");
  });

  it("goes down when its connection is cut and live again after reconnecting", async () => {
    const states: DataChangesState[] = [];
    const heard: string[] = [];
    const changes = listenForDataChanges(
      open.db,
      { onChange: (table) => heard.push(table), onState: (s) => states.push(s) },
      { retry: { baseMs: 50, maxMs: 50 } },
    );
    try {
      await vi.waitFor(() => expect(changes.state).toBe("live"), { timeout: 5_000 });
      const { rows } = await writer.query<{ cut: boolean }>(
        `SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
        [DATA_CHANGES_APPLICATION],
      );
      expect(rows).toEqual([{ cut: true }]);
      await vi.waitFor(() => expect(states).toEqual(["live", "down", "live"]), { timeout: 5_000 });
      await writer.query(`UPDATE "Subnet" SET "name" = 'after the cut' WHERE "netuid" = 9002`);
      await vi.waitFor(() => expect(heard).toEqual(["Subnet"]), { timeout: 2_000 });
    } finally {
      await changes.close();
    }
  });
});
