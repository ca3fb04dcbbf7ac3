export * from "./tokenizer/index.ts";
export * from "./data/index.ts";
