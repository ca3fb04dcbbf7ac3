import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { findActiveToken, openDatabase } from "@subnet-review/db";
import { createTestDatabase } from "@subnet-review/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const review = (...args: string[]) => run("node", ["--import", "tsx", main, ...args], { env: { ...process.env, DATABASE_URL: database.url } });

describe("review token", () => {
  it("creates a token whose secret is shown once and works, lists it without the secret, and revokes it", async () => {
    const created = JSON.parse((await review("token", "create", "--name", "miner-7", "--json")).stdout);
    expect(created).toMatchObject({ name: "miner-7", secret: expect.stringMatching(/^srv_/) });

    const listed = JSON.parse((await review("token", "list", "--json")).stdout);
    expect(listed).toEqual([expect.objectContaining({ id: created.id, name: "miner-7" })]);
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const db = await openDatabase({ url: database.url });
    try {
      expect((await findActiveToken(db.db, created.secret))?.id).toBe(created.id);
      await review("token", "revoke", "--id", String(created.id));
      expect(await findActiveToken(db.db, created.secret)).toBeNull();
    } finally {
      await db.close();
    }
    await expect(review("token", "revoke", "--id", String(created.id))).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--id: no active token/),
    });
  });
});
