import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken, findActiveToken, importPublishedReview, revokeApiToken } from "../src/index.ts";
import { openTestDatabase } from "../src/testing.ts";

let open: Awaited<ReturnType<typeof openTestDatabase>>;
beforeAll(async () => {
  open = await openTestDatabase();
});
afterAll(async () => {
  await open.close();
});

describe("importPublishedReview", () => {
  it("imports the published review for subnet 102 with its reported figures, idempotently", async () => {
    const first = await importPublishedReview(open.db);
    const second = await importPublishedReview(open.db);
    expect(second.reviewId).toBe(first.reviewId);
    const review = await open.db.review.findUniqueOrThrow({
      where: { slug: "subnet-102-status-review" },
      include: { subnet: true, modelConfig: true, figures: true },
    });
    expect(review.subnet.netuid).toBe(102);
    expect(review.modelConfig.modelType).toBe("deepseek_v2");
    expect(review.figures).toHaveLength(first.figures);
    const byKey = new Map(review.figures.map((f) => [f.key, f]));
    expect(byKey.get("miners.averageActive")?.value).toBe(225.2);
    expect(byKey.get("retention.mmlu.C")).toMatchObject({ value: 58, cell: "C", step: 500 });
    expect(byKey.get("gsm8k.B.step500")).toMatchObject({ value: 42.5, unit: "percent" });
  });
});

describe("API tokens", () => {
  it("stores only the hash, finds the secret, and refuses it once revoked", async () => {
    const token = await createApiToken(open.db, "ci");
    const stored = await open.db.apiToken.findUniqueOrThrow({ where: { id: token.id } });
    expect(stored.hash).not.toContain(token.secret);
    expect(JSON.stringify(stored)).not.toContain(token.secret);
    expect((await findActiveToken(open.db, token.secret))?.id).toBe(token.id);
    expect(await findActiveToken(open.db, token.secret + "x")).toBeNull();
    expect(await revokeApiToken(open.db, token.id)).toBe(true);
    expect(await findActiveToken(open.db, token.secret)).toBeNull();
  });
});
