import { createApiToken } from "@subnet-review/db";
import { formatFigure } from "@subnet-review/core";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../src/testing.ts";
import type { AppRouter } from "../src/index.ts";

let api: TestApi;
const client = (auth?: string) => api.client(auth);

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stop();
});

describe("review.bySlug", () => {
  it("computes section 01 and 02 with core and sets each beside the published figure", async () => {
    const view = await client().review.bySlug.query({ slug: "subnet-102-status-review" });
    expect(view.subnet.netuid).toBe(102);
    const rows = new Map(view.sizes.rows.map((r) => [r.figure.id, r]));
    expect(rows.get("params.total")?.figure.value).toBe(15_706_484_224);
    expect(rows.get("params.total")).toMatchObject({ agrees: true, figure: { kind: "computed" }, published: { kind: "reported", value: 15.71e9 } });
    expect(rows.get("shard.A.resident")?.figure.value).toBe(3_108_007_424);
    expect(rows.get("shard.trainable")?.figure.value).toBe(1_799_356_416);
    // The exact backbone is 861.79 M; the published page rounds it to 861.9 M, and the page says so.
    expect(rows.get("params.backbone")).toMatchObject({ agrees: false, figure: { value: 861_793_792 } });
    expect(view.throughput.rows.map((r) => formatFigure(r.figure))).toEqual(["22,500", "1.747", "141,480,000", "209.1"]);
    expect(view.throughput.rows.every((r) => r.agrees)).toBe(true);
    expect(view.throughput.headline.figure.inputs.gpuTokensPerSecond?.kind).toBe("estimated");
  });

  it("estimates memory per cell with core and carries the published peaks and retention deltas", async () => {
    const view = await client().review.bySlug.query({ slug: "subnet-102-status-review" });
    const states = Object.fromEntries(view.cells.memory.map((m) => [m.cell, formatFigure(m.statesGB)]));
    expect(states).toEqual({ A: "17.0 GB", B: "24.2 GB", C: "42.2 GB", full: "125.7 GB" });
    expect(view.cells.memory.find((m) => m.cell === "B")?.publishedPeak.map((f) => f.value)).toEqual([28, 32]);
    const mmlu = view.cells.retention.find((r) => r.benchmark === "mmlu");
    expect(mmlu?.cells.map((c) => [c.cell, c.delta.value, c.flagged])).toEqual(
      [
        ["A", 0.1],
        ["B", -0.2],
        ["C", -0.5],
      ].map(([c, d]) => [c, d, false]),
    );
  });

  it("answers NOT_FOUND for an unknown review and names the field of a malformed slug", async () => {
    await expect(client().review.bySlug.query({ slug: "nope" })).rejects.toThrow(/no review nope/);
    const err = await client()
      .review.bySlug.query({ slug: "Not A Slug" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    const data = (err as TRPCClientError<AppRouter>).data as { fields: { path: string }[]; stack?: string };
    expect(data.fields[0]?.path).toBe("slug");
    expect(data.stack).toBeUndefined();
  });
});

describe("writes", () => {
  const config = {
    model_type: "mixtral",
    vocab_size: 32000,
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    num_local_experts: 8,
    num_experts_per_tok: 2,
    tie_word_embeddings: false,
  };

  it("refuse a request without a valid token", async () => {
    await expect(client().modelConfig.upsert.mutate({ name: "mixtral", config })).rejects.toThrow(/writes need an API token/);
    await expect(client("srv_wrong").modelConfig.upsert.mutate({ name: "mixtral", config })).rejects.toThrow(/unknown or revoked/);
  });

  it("store a config counted by core and create a review; K + N beyond the experts is refused naming the field", async () => {
    const { secret } = await createApiToken(api.db, "test");
    const stored = await client(secret).modelConfig.upsert.mutate({ name: "mistralai/Mixtral-8x7B-v0.1", config });
    expect(stored.modelType).toBe("mixtral");
    expect(Math.round(stored.total / 1e8) / 10).toBe(46.7);

    const review = {
      slug: "mixtral-test",
      title: "Mixtral shard",
      source: "test",
      netuid: 102,
      modelName: "mistralai/Mixtral-8x7B-v0.1",
      trainable: 2,
      kept: 7,
      constants: {
        gpu: "H100 80GB",
        gpuTokensPerSecond: 5000,
        multiplier: 2,
        cycleBlocks: 500,
        blockSeconds: 12,
        windowHours: 100,
        bytesPerWeight: 2,
        bytesPerGrad: 2,
        bytesPerOptimizerState: 4,
      },
    };
    const err = await client(secret)
      .review.create.mutate(review)
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^kept: trainable \+ kept must be at most 8/);
    expect(((err as TRPCClientError<AppRouter>).data as { code: string }).code).toBe("BAD_REQUEST");
    expect(await api.db.review.count({ where: { slug: "mixtral-test" } })).toBe(0);

    // Reads are cached for a moment; a write through the API clears the cache at once.
    expect((await client().review.list.query()).map((r) => r.slug)).not.toContain("mixtral-test");
    await client(secret).review.create.mutate({ ...review, kept: 2 });
    expect((await client().review.list.query()).map((r) => r.slug)).toContain("mixtral-test");
    const view = await client().review.bySlug.query({ slug: "mixtral-test" });
    expect(view.sizes.rows[0]?.published).toBeNull();
    expect(view.throughput.headline.figure.value).toBe(10_000);
  });

  it("reject a config core cannot read, naming the field", async () => {
    const { secret } = await createApiToken(api.db, "test2");
    await expect(client(secret).modelConfig.upsert.mutate({ name: "bad", config: { model_type: "gpt_neox" } })).rejects.toThrow(/model_type/);
  });
});

describe("/health", () => {
  it("reports the database up", async () => {
    const res = await fetch(`${api.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, database: "up" });
  });
});
