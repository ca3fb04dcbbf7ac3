import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runReview } from "./run-review.ts";

const config = fileURLToPath(new URL("../../db/seed/deepseek-v2-lite.config.json", import.meta.url));
const review = (...args: string[]) => runReview(args);

describe("review census", () => {
  it("prints the exact DeepSeek-V2-Lite census and the shard per cell as one JSON object", async () => {
    const { code, stdout } = await review("census", "--config", config, "--trainable", "8", "--kept", "16", "--json");
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.params).toMatchObject({ total: 15_706_484_224, backbone: 861_793_792, shared: 449_839_104, routed: 14_394_851_328, perExpert: 8_650_752 });
    expect(out.moeLayers).toBe(26);
    expect(out.shard.A).toEqual({ trainable: 1_799_356_416, resident: 3_108_007_424, parked: 12_598_476_800 });
    expect(out.shard.B.resident).toBe(6_707_572_224);
  });

  it("prints a readable table without --json", async () => {
    const { code, stdout } = await review("census", "--config", config);
    expect(code).toBe(0);
    expect(stdout).toContain("15.71 B");
    expect(stdout).toContain("15,706,484,224");
  });
});

describe("review memory", () => {
  it("reproduces the published memory before activations per cell", async () => {
    const { code, stdout } = await review(
      "memory",
      "--config",
      config,
      "--trainable",
      "8",
      "--kept",
      "16",
      "--gpu",
      "RTX A6000",
      "--micro-batch",
      "1",
      "--seq",
      "1",
      "--json",
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    const states = (c: string) => (out[c].weightsGB + out[c].gradsGB + out[c].optimizerGB).toFixed(1);
    expect(["A", "B", "C", "full"].map(states)).toEqual(["17.0", "24.2", "42.2", "125.7"]);
    expect(out.A.fitsOn).toContain("RTX A6000");
    expect(out.full.gpusNeeded).toBeGreaterThan(1);
  });
});

describe("review throughput", () => {
  it("reproduces the published section 02", async () => {
    const { stdout } = await review(
      "throughput",
      "--gpu-tokens-per-second",
      "7500",
      "--multiplier",
      "3",
      "--cycle-blocks",
      "524",
      "--window-hours",
      "365.2",
      "--json",
    );
    const out = JSON.parse(stdout);
    expect(out.tokensPerSecond).toBe(22_500);
    expect(out.hoursPerRound.toFixed(3)).toBe("1.747");
    expect(out.tokensPerRound).toBe(141_480_000);
    expect(out.rounds.toFixed(1)).toBe("209.1");
  });
});

describe("bad input", () => {
  it.each([
    [["census", "--config", "missing.json"], /--config: cannot read missing.json/],
    [["memory", "--config", config, "--trainable", "8", "--kept", "60"], /kept: trainable \+ kept must be at most 64/],
    [["memory", "--config", config, "--trainable", "2.5"], /--trainable: must be a whole number/],
    [["memory", "--config", config, "--trainable", "8", "--gpu", "TPU"], /gpu: /],
    [
      ["throughput", "--gpu-tokens-per-second", "0", "--multiplier", "3", "--cycle-blocks", "524", "--window-hours", "1"],
      /--gpu-tokens-per-second: must be greater than 0/,
    ],
    [["census", "--config", config, "--bogus"], /Unknown option '--bogus'/],
    [["nonsense"], /unknown command "nonsense"/],
  ])("%j fails with a message naming the field", async (args, message) => {
    const { code, stdout, stderr } = await review(...(args as string[]));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
