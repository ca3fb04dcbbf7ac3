import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importPublishedReview, openDatabase } from "../src/index.ts";

describe("embedded PGlite", () => {
  it("serves the same migrations and Prisma client over the wire protocol, and persists across restarts", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "pglite-")), "data");
    const first = await openDatabase({ url: "", dataDir });
    expect(first.embedded).toBe(true);
    await importPublishedReview(first.db);
    const [{ version }] = await first.db.$queryRaw<{ version: string }[]>`SELECT version()`;
    expect(version).toMatch(/PostgreSQL/);
    await first.close();

    const again = await openDatabase({ url: "", dataDir });
    const count = await again.db.reportedFigure.count();
    expect(count).toBeGreaterThan(40);
    await again.close();
  }, 60_000);
});
