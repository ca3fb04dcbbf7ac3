import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "../src/testing.ts";

let open: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  open = await openTestDatabase();
});
afterAll(async () => {
  await open.close();
});

describe("the SQL migrations", () => {
  // The migrations are hand-kept SQL: every Prisma model must find its table and every column it selects.
  it.each([
    "subnet", "modelConfig", "experiment", "review", "reportedFigure", "apiToken",
    "trainingRun", "trainingStep", "evalResult", "chainCycle", "chainMiner", "telemetryCheckpoint",
  ] as const)("match the Prisma model %s", async (model) => {
    const delegate = open.db[model] as unknown as { findMany(args: object): Promise<unknown[]> };
    await expect(delegate.findMany({ take: 1 })).resolves.toEqual([]);
  });
});
