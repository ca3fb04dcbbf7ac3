import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { importPublishedReview, openDatabase } from "../src/index.ts";

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("embedded PGlite", () => {
  it("serves migrations and the Prisma client over the wire protocol, shares itself with other processes, and persists", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "pglite-")), "data");
    const first = await openDatabase({ url: "", dataDir });
    expect(first.mode).toBe("embedded");
    await importPublishedReview(first.db);
    const [row] = await first.db.$queryRaw<{ version: string }[]>`SELECT version()`;
    expect(row?.version).toMatch(/PostgreSQL/);

    // Another process (a CLI command while `pnpm start` runs) connects to this server rather than reopening the files.
    const script = `import { openDatabase } from "./src/index.ts";
      const o = await openDatabase({ url: "", dataDir: ${JSON.stringify(dataDir)} });
      console.log(JSON.stringify({ mode: o.mode, figures: await o.db.reportedFigure.count() }));
      await o.close();`;
    const { stdout } = await run("node", ["--import", "tsx", "--input-type=module", "-e", script], { cwd: packageDir });
    const expected = await first.db.reportedFigure.count();
    expect(JSON.parse(stdout)).toEqual({ mode: "shared", figures: expected });
    await first.close();

    const again = await openDatabase({ url: "", dataDir });
    expect(again.mode).toBe("embedded");
    expect(await again.db.reportedFigure.count()).toBe(expected);
    await again.close();
  }, 90_000);
});
