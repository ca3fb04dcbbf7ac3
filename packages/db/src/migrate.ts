import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** Prisma's folder layout: prisma/migrations/<timestamp>_<name>/migration.sql, applied in name order. */
export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

const MIGRATION_NAME = /^\d{14}_[a-z0-9_]+$/;

/**
 * The migrations in `dir`, in name order. A folder that is not named `<14-digit timestamp>_<snake_case name>` or
 * has no migration.sql is an error, not skipped: a misnamed migration would otherwise never be applied.
 */
export async function readMigrations(dir: string = migrationsDir): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const unknown = folders.filter((name) => !MIGRATION_NAME.test(name));
  if (unknown.length) {
    throw new Error(
      `${dir}: ${unknown.map((n) => JSON.stringify(n)).join(", ")} ${unknown.length === 1 ? "is not a migration folder" : "are not migration folders"}; a migration is a folder named <YYYYMMDDHHMMSS>_<snake_case_name> holding migration.sql`,
    );
  }
  return Promise.all(
    folders.sort().map(async (name) => {
      let sql: string;
      try {
        sql = await readFile(join(dir, name, "migration.sql"), "utf8");
      } catch (err) {
        throw new Error(`${join(dir, name)}: no readable migration.sql (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

// An arbitrary constant: every process applying migrations to one database takes the same lock.
const MIGRATION_LOCK_KEY = 102_000_001;

/**
 * Applies pending migrations, each in its own transaction, recorded in "_migrations".
 * A session-level advisory lock serialises concurrent starters; an edited applied migration is an error.
 */
export async function applyMigrations(url: string, dir: string = migrationsDir): Promise<string[]> {
  const migrations = await readMigrations(dir);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS "_migrations" (
         "name" TEXT PRIMARY KEY,
         "checksum" TEXT NOT NULL,
         "appliedAt" TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ name: string; checksum: string }>(`SELECT "name", "checksum" FROM "_migrations"`);
    const applied = new Map(rows.map((r) => [r.name, r.checksum]));
    const newlyApplied: string[] = [];
    for (const m of migrations) {
      const known = applied.get(m.name);
      if (known !== undefined) {
        if (known !== m.checksum) {
          throw new Error(
            `migration ${m.name} was changed after it was applied (checksum ${known.slice(0, 12)} in the database, ${m.checksum.slice(0, 12)} on disk); add a new migration instead`,
          );
        }
        continue;
      }
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(`INSERT INTO "_migrations" ("name", "checksum") VALUES ($1, $2)`, [m.name, m.checksum]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.name} failed and was rolled back: ${(err as Error).message}`);
      }
      newlyApplied.push(m.name);
    }
    return newlyApplied;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}
