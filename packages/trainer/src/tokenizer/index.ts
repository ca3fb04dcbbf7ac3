export { BpeTokenizer, loadTokenizer, type DecodeOptions, type EncodeOptions, type Encoding } from "./tokenizer.ts";
export { TokenizerConfigError } from "./schema.ts";
export { UnsupportedRegexError, compileOnigurumaRegex, translateOnigurumaPattern } from "./regex.ts";
export { DEEPSEEK_BOS, DEEPSEEK_EOS, DEEPSEEK_V2_PRE_TOKENIZER } from "./deepseek.ts";
export { trainByteLevelBpe, type TrainByteLevelBpeOptions, type TrainedTokenizerJson } from "./train-bpe.ts";
