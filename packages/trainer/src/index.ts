export * from "./tokenizer/index.ts";
export * from "./data/index.ts";
export * from "./worker/messages.ts";
export * from "./worker/eval-messages.ts";
export * from "./worker/launch.ts";
export * from "./env.ts";
// the worker's own packed-sequences format (tests); "PACKED_FORMAT" and "PackedSequences" name the data package's
export { writePackedSequences, packedDescriptorSchema, PACKED_FORMAT as PACKED_SEQUENCES_FORMAT, type PackedDescriptor } from "./worker/packed.ts";
export * from "./runner/index.ts";
