import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, readMigrations } from "../src/index.ts";
import { createTestDatabase } from "../src/testing.ts";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

async function tables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
  await c.end();
  return rows.map((r) => r.table_name);
}

describe("applyMigrations", () => {
  it("applies the shipped migrations in order, once, even when two processes start at the same time", async () => {
    const shipped = await readMigrations();
    expect(shipped.map((m) => m.name)).toEqual([...shipped.map((m) => m.name)].sort());
    const [first, second] = await Promise.all([applyMigrations(database.url), applyMigrations(database.url)]);
    // Exactly one of the two starters applied everything; the other found nothing pending.
    expect([first, second].map((names) => names.length).sort()).toEqual([0, shipped.length]);
    expect(await applyMigrations(database.url)).toEqual([]);
    expect(await tables(database.url)).toEqual(expect.arrayContaining(["_migrations", "Review", "ReportedFigure", "ApiToken", "Subnet", "ModelConfig"]));
  });

  it("rolls back a failing migration and records nothing of it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    await mkdir(join(dir, "20300101000000_good"));
    await writeFile(join(dir, "20300101000000_good", "migration.sql"), `CREATE TABLE "good" ("id" INT);`);
    await mkdir(join(dir, "20300101000001_bad"));
    await writeFile(join(dir, "20300101000001_bad", "migration.sql"), `CREATE TABLE "half" ("id" INT); SELECT * FROM "no_such_table";`);
    await expect(applyMigrations(database.url, dir)).rejects.toThrow(/20300101000001_bad failed and was rolled back/);
    const names = await tables(database.url);
    expect(names).toContain("good");
    expect(names).not.toContain("half");
  });

  it("refuses a migration edited after it was applied", async () => {
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    await mkdir(join(dir, "20300101000002_edit"));
    await writeFile(join(dir, "20300101000002_edit", "migration.sql"), `CREATE TABLE "edited" ("id" INT);`);
    await applyMigrations(database.url, dir);
    await writeFile(join(dir, "20300101000002_edit", "migration.sql"), `CREATE TABLE "edited" ("id" BIGINT);`);
    await expect(applyMigrations(database.url, dir)).rejects.toThrow(/was changed after it was applied/);
  });

  it("refuses a folder it does not recognise as a migration, and one without migration.sql, before applying anything", async () => {
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    await mkdir(join(dir, "20300101000003_fine"));
    await writeFile(join(dir, "20300101000003_fine", "migration.sql"), `CREATE TABLE "never_applied" ("id" INT);`);
    await mkdir(join(dir, "2030-01-01_misnamed"));
    await writeFile(join(dir, "2030-01-01_misnamed", "migration.sql"), `CREATE TABLE "misnamed" ("id" INT);`);
    await expect(applyMigrations(database.url, dir)).rejects.toThrow(/"2030-01-01_misnamed" is not a migration folder/);
    expect(await tables(database.url)).not.toContain("never_applied");

    const empty = await mkdtemp(join(tmpdir(), "migrations-"));
    await mkdir(join(empty, "20300101000004_no_sql"));
    await expect(readMigrations(empty)).rejects.toThrow(/20300101000004_no_sql: no readable migration.sql \(ENOENT\)/);
  });
});
