export {
  SftDataError,
  chatRoles,
  readSftExamples,
  sftRecordMessages,
  type ChatMessage,
  type ChatRole,
  type SftExample,
  type SftFile,
  type SftLineIssue,
} from "./examples.ts";
export {
  DEEPSEEK_V2_CHAT_TEMPLATE,
  chatTemplateSchema,
  describeTemplate,
  renderExample,
  type ChatTemplate,
  type RenderedExample,
} from "./template.ts";
export { tokenizeExample, type TokenizedExample } from "./tokenize-example.ts";
export { NoTargetsError, keepRowsWithTargets, packExamples, type PackOptions, type PackedSequences, type TrainableRows } from "./pack.ts";
export { seededShuffle } from "./shuffle.ts";
export {
  INPUT_IDS_FILE,
  LOSS_MASK_FILE,
  MANIFEST_FILE,
  PACKED_FORMAT,
  packedManifestSchema,
  readPackedDataset,
  writePackedDataset,
  type PackedDataset,
  type PackedManifest,
} from "./packed-format.ts";
export { prepareSftData, prepareSftOptionsSchema, type PrepareSftOptions } from "./prepare.ts";
