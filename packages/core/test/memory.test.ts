import { describe, expect, it } from "vitest";
import {
  GiB,
  countParameters,
  estimateActivations,
  estimateMemory,
  findGpu,
  gpuCatalog,
  parseModelConfig,
  shardSizes,
  shardedGpus,
  type Cell,
} from "../src/index.ts";
import { fixture } from "./fixtures.ts";

const lite = countParameters(parseModelConfig(fixture("DeepSeek-V2-Lite")));

describe("shard sizes (K = 8 trainable, N = 16 kept)", () => {
  const s = shardSizes(lite, { trainable: 8, kept: 16 });
  it("matches the reference counts", () => {
    expect(s.A.trainable).toBe(1_799_356_416);
    expect(s.A.resident).toBe(3_108_007_424);
    expect(s.B.resident).toBe(6_707_572_224);
    expect(s.C.resident).toBe(15_706_484_224);
    expect(s.full).toEqual({ trainable: 15_706_484_224, resident: 15_706_484_224, parked: 0 });
  });
  it("parks what is not resident", () => {
    for (const cell of ["A", "B", "C"] as const) expect(s[cell].resident + s[cell].parked).toBe(lite.total);
    // parked experts take their router rows [2048] with them (the router is restricted to the routable ones)
    expect(s.A.parked).toBe(56 * 26 * (8_650_752 + 2048));
    expect(s.B.parked).toBe(40 * 26 * (8_650_752 + 2048));
    expect(s.C.parked).toBe(0);
    expect(s.B.trainable).toBe(s.A.trainable);
    expect(s.C.trainable).toBe(s.A.trainable);
  });
  it("K = 64 makes A hold everything", () => {
    expect(shardSizes(lite, { trainable: 64, kept: 0 }).A.resident).toBe(lite.total);
  });
});

describe("memory table (bf16 weights 2 B, grads 2 B, AdamW m+v 4 B per trainable)", () => {
  const m = estimateMemory(lite, { trainable: 8, kept: 16 });
  it("reproduces the published GB before activations", () => {
    expect(m.A.statesGB.toFixed(1)).toBe("17.0");
    expect(m.B.statesGB.toFixed(1)).toBe("24.2");
    expect(m.C.statesGB.toFixed(1)).toBe("42.2");
    expect(m.full.statesGB.toFixed(1)).toBe("125.7");
    expect(m.full.statesGB).toBeCloseTo((15_706_484_224 * 8) / 1e9, 9);
    expect(m.A.weightsGB).toBeCloseTo((3_108_007_424 * 2) / 1e9, 12);
    expect(m.A.gradsGB + m.A.optimizerGB).toBeCloseTo((1_799_356_416 * 6) / 1e9, 12);
  });
  it("takes other byte counts (fp32 master + m + v = 12 B)", () => {
    const f = estimateMemory(lite, { trainable: 8, kept: 16, bytesPerOptimizerState: 12, bytesPerGrad: 4 });
    expect(f.full.statesGB).toBeCloseTo((15_706_484_224 * 18) / 1e9, 9);
  });
  it("reports fits-on and sharded GPU counts", () => {
    expect(m.A.fitsOn).toContain("H100 80GB");
    expect(m.A.fitsOn).not.toContain("RTX 4090");
    expect(m.full.fitsOn).toEqual([]);
    expect(m.full.gpusNeeded).toBe(Math.ceil(m.full.statesGB / (80 - m.full.activationsGB)));
    expect(m.full.gpusNeededBy["H200 141GB"]).toBe(2);
    expect(m.A.gpusNeeded).toBe(1);
    expect(m.A.gpusNeededBy["RTX 4090"]).toBeNull(); // activations of 2 × 2048 tokens alone exceed 24 GB
    const ckpt = estimateMemory(lite, { trainable: 8, kept: 16, microBatch: 1, checkpointing: true, gpu: "rtx 4090" });
    expect(ckpt.A.gpu).toBe("RTX 4090");
    expect(ckpt.A.gpusNeeded).toBe(1); // 17.0 GB states + ~2.3 GB activations of 2,048 tokens
    expect(ckpt.A.fitsOn).toContain("RTX 4090");
    expect(ckpt.C.gpusNeeded).toBe(Math.ceil(ckpt.C.statesGB / (24 - ckpt.C.activationsGB)));
  });
  it("shardedGpus: states split over n GPUs, activations per GPU", () => {
    expect(shardedGpus(10, 5, 80)).toBe(1);
    expect(shardedGpus(150, 20, 80)).toBe(3);
    expect(shardedGpus(150, 80, 80)).toBeNull();
  });
});

// Measured peaks (torch max memory allocated, GiB) from esft-and-evals.md: the trainer requires core's
// total estimate within 15% for each cell.
const measured: { cell: Cell; microBatch: number; checkpointing: boolean; gib: number; where: string }[] = [
  { cell: "A", microBatch: 2, checkpointing: false, gib: 37.7, where: "H100, grouped GEMM" },
  { cell: "B", microBatch: 2, checkpointing: false, gib: 43.2, where: "H100, grouped GEMM" },
  { cell: "C", microBatch: 2, checkpointing: false, gib: 59.6, where: "H100, grouped GEMM" },
  { cell: "A", microBatch: 2, checkpointing: false, gib: 37.8, where: "H100, per-expert loop" },
  { cell: "C", microBatch: 2, checkpointing: false, gib: 59.9, where: "H100, per-expert loop" },
  { cell: "A", microBatch: 4, checkpointing: true, gib: 24.4, where: "H200" },
  { cell: "B", microBatch: 4, checkpointing: true, gib: 31.1, where: "H200" },
  { cell: "C", microBatch: 4, checkpointing: true, gib: 47.9, where: "H200" },
  { cell: "A", microBatch: 4, checkpointing: false, gib: 62.9, where: "H200" },
  { cell: "A", microBatch: 8, checkpointing: true, gib: 36.3, where: "H200" },
];

describe("activation estimate against measured peaks (DeepSeek-V2-Lite, seq 2048, K=8, N=16)", () => {
  for (const r of measured) {
    it(`cell ${r.cell}, ${r.microBatch} × 2048, ${r.checkpointing ? "checkpointing" : "no checkpointing"} (${r.where}): ${r.gib} GiB`, () => {
      const m = estimateMemory(lite, { trainable: 8, kept: 16, microBatch: r.microBatch, seqLen: 2048, checkpointing: r.checkpointing });
      const est = m[r.cell].totalGiB;
      expect(Math.abs(est / r.gib - 1)).toBeLessThan(0.15);
    });
  }
  it("includes the fp32 logits and their gradient (8,192 tokens × 102,400 × 4 B = 3.4 GB each)", () => {
    const a = estimateActivations(lite, { microBatch: 4, seqLen: 2048, checkpointing: true });
    expect(a.logitsBytes).toBe(8192 * 102400 * 4 * 2);
    expect((a.logitsBytes / 2 / 1e9).toFixed(1)).toBe("3.4");
  });
  it("is linear in tokens, and checkpointing saves most of it", () => {
    const one = estimateActivations(lite, { microBatch: 1, seqLen: 2048, checkpointing: false });
    const two = estimateActivations(lite, { microBatch: 2, seqLen: 2048, checkpointing: false });
    const ck = estimateActivations(lite, { microBatch: 2, seqLen: 2048, checkpointing: true });
    expect(two.totalBytes).toBe(2 * one.totalBytes);
    expect(ck.layerBytes).toBeLessThan(two.layerBytes / 5);
    expect(two.formula).toMatch(/fp32 logits/);
    expect(ck.formula).toMatch(/checkpointed layer inputs/);
  });
  it("states the formula and units on the figures", () => {
    const m = estimateMemory(lite, { trainable: 8, kept: 16 });
    const act = m.A.figures.find((f) => f.id === "memory.A.activationsGB")!;
    expect(act.unit).toBe("GB");
    expect(act.kind).toBe("estimated");
    expect(act.formula).toMatch(/micro-batch 2 × seq 2048/);
    expect(m.A.totalGiB * GiB).toBeCloseTo(m.A.totalGB * 1e9, 0);
  });
});

describe("GPU catalog", () => {
  it("holds the listed GPUs in decimal GB", () => {
    expect(gpuCatalog.map((g) => [g.name, g.memoryGB])).toEqual([
      ["RTX 4090", 24],
      ["RTX A6000", 48],
      ["L40S", 48],
      ["A100 40GB", 40],
      ["A100 80GB", 80],
      ["H100 80GB", 80],
      ["H200 141GB", 141],
    ]);
  });
  it("finds GPUs ignoring case and spaces", () => {
    expect(findGpu("h100")?.name).toBe("H100 80GB");
    expect(findGpu("H100 80GB")?.name).toBe("H100 80GB");
    expect(findGpu("a6000")?.name).toBe("RTX A6000");
    expect(findGpu("RTX A6000")?.name).toBe("RTX A6000");
    expect(findGpu("NVIDIA L40S")?.name).toBe("L40S");
    expect(findGpu("a100-40gb")?.name).toBe("A100 40GB");
    expect(findGpu("A100 80 GB")?.name).toBe("A100 80GB");
    expect(findGpu("4090")?.name).toBe("RTX 4090");
    expect(findGpu("h200")?.memoryGB).toBe(141);
    expect(findGpu("a100")).toBeUndefined(); // 40 or 80?
    expect(findGpu("h100 40gb")).toBeUndefined();
    expect(findGpu("tpu")).toBeUndefined();
  });
});
