import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Db } from "./client.ts";
import { openDatabase } from "./database.ts";

/** The server tests run against: TEST_DATABASE_URL, else DATABASE_URL, else the local `test` database. */
export const testServerUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

/**
 * A fresh, empty database on the test server, so test files (and packages run by turbo) never share state.
 * `drop()` removes it.
 */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sr_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: testServerUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(testServerUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: testServerUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh test database with migrations applied and a client open; `close()` disconnects and drops it. */
export async function openTestDatabase(): Promise<{ db: Db; url: string; close(): Promise<void> }> {
  const database = await createTestDatabase();
  const open = await openDatabase({ url: database.url });
  return {
    db: open.db,
    url: database.url,
    async close() {
      await open.close();
      await database.drop();
    },
  };
}
