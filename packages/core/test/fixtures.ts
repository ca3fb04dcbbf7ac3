// Public config.json files of each supported family, verbatim values (see fixtures/*.json).
import deepseekV2Lite from "./fixtures/deepseek-v2-lite.json";
import deepseekV2 from "./fixtures/deepseek-v2.json";
import deepseekV3 from "./fixtures/deepseek-v3.json";
import mixtral from "./fixtures/mixtral-8x7b-v0.1.json";
import qwen15Moe from "./fixtures/qwen1.5-moe-a2.7b.json";
import qwen3Moe from "./fixtures/qwen3-30b-a3b.json";
import olmoe from "./fixtures/olmoe-1b-7b-0924.json";
import llama3 from "./fixtures/llama-3-8b.json";
import mistral from "./fixtures/mistral-7b-v0.1.json";
import qwen2small from "./fixtures/qwen2-0.5b.json";

export const fixtures = {
  "DeepSeek-V2-Lite": deepseekV2Lite,
  "DeepSeek-V2": deepseekV2,
  "DeepSeek-V3": deepseekV3,
  "Mixtral-8x7B-v0.1": mixtral,
  "Qwen1.5-MoE-A2.7B": qwen15Moe,
  "Qwen3-30B-A3B": qwen3Moe,
  "OLMoE-1B-7B-0924": olmoe,
  "Meta-Llama-3-8B": llama3,
  "Mistral-7B-v0.1": mistral,
  "Qwen2-0.5B": qwen2small,
} as const;

export type FixtureName = keyof typeof fixtures;

/** A deep copy to mutate in tests. */
export function fixture(name: FixtureName): Record<string, unknown> {
  return JSON.parse(JSON.stringify(fixtures[name])) as Record<string, unknown>;
}
