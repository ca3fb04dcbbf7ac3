import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { AddedTokenMatcher } from "./added-tokens.ts";
import { BpeModel, type WordTokens } from "./bpe.ts";
import { byteLevelDecode, byteLevelString, byteLevelTokenBytes, utf8Length } from "./byte-level.ts";
import { buildNormalizer, type Normalizer } from "./normalizer.ts";
import { buildPreTokenizer, preTokenize, type PreTokenizer } from "./pre-tokenizer.ts";
import {
  SUPPORTED_DECODERS,
  SUPPORTED_MODELS,
  SUPPORTED_POST_PROCESSORS,
  TokenizerConfigError,
  bpeModelSchema,
  componentType,
  parseField,
  templateProcessingSchema,
  tokenRefContent,
  tokenizerConfigSchema,
  tokenizerJsonSchema,
  type TokenizerConfigJson,
} from "./schema.ts";

export interface EncodeOptions {
  /** Add the special tokens of the post-processor / tokenizer_config (e.g. BOS). Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop added tokens marked special (BOS, EOS, ...). Default false. */
  skipSpecialTokens?: boolean;
}

/** Token ids with each token's [start, end) UTF-8 byte range in the input ([0, 0] for inserted specials). */
export interface Encoding {
  ids: number[];
  offsets: Array<[number, number]>;
}

/** Ids put around the text's tokens when special tokens are added. */
interface SpecialWrap {
  before: number[];
  after: number[];
}

const CACHE_CAPACITY = 10_000;
const CACHE_MAX_PIECE = 256;

const sequenceProcessorSchema = z.object({ type: z.literal("Sequence"), processors: z.array(z.unknown()) });
const byteLevelDecoderSchema = z.object({ type: z.literal("ByteLevel") }).loose();

function templateWrap(config: unknown, file: string, field: string): SpecialWrap {
  const type = componentType(config, SUPPORTED_POST_PROCESSORS, file, field);
  if (type === "ByteLevel") return { before: [], after: [] }; // only trims offsets
  if (type === "Sequence") {
    const seq = parseField(sequenceProcessorSchema, config, file, field);
    const wrap: SpecialWrap = { before: [], after: [] };
    seq.processors.forEach((p, i) => {
      const inner = templateWrap(p, file, `${field}.processors[${i}]`);
      wrap.before.push(...inner.before);
      wrap.after.unshift(...inner.after);
    });
    return wrap;
  }
  const tpl = parseField(templateProcessingSchema, config, file, field);
  const wrap: SpecialWrap = { before: [], after: [] };
  let seenSequence = false;
  for (const piece of tpl.single) {
    if ("Sequence" in piece) {
      seenSequence = true;
      continue;
    }
    const special = tpl.special_tokens[piece.SpecialToken.id];
    if (!special) {
      throw new TokenizerConfigError(`${file}: ${field}.single names special token ${JSON.stringify(piece.SpecialToken.id)} missing from special_tokens`);
    }
    (seenSequence ? wrap.after : wrap.before).push(...special.ids);
  }
  return wrap;
}

/**
 * A byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json, encoding and decoding as
 * the `tokenizers` library does: added tokens are matched first on the raw text, every other
 * stretch is normalized, pre-tokenized (Split / Digits / ByteLevel) and merged by rank.
 */
export class BpeTokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  private readonly model: BpeModel;
  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer;
  private readonly added: AddedTokenMatcher;
  private readonly idToTokenMap = new Map<number, string>();
  private readonly addedIds = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly wrap: SpecialWrap;
  /** Raw piece text -> its tokens; bounded like tokenizers' BPE cache, results never depend on it. */
  private readonly cache = new Map<string, WordTokens>();

  private constructor(tokenizerJson: unknown, tokenizerConfig: unknown, source: string) {
    const file = `${source}/tokenizer.json`;
    const top = parseField(tokenizerJsonSchema, tokenizerJson, file, "tokenizer");
    componentType(top.model, SUPPORTED_MODELS, file, "model");
    this.model = new BpeModel(parseField(bpeModelSchema, top.model, file, "model"), file);
    this.normalizer = buildNormalizer(top.normalizer, file);
    this.preTokenizer = buildPreTokenizer(top.pre_tokenizer, file);
    if (top.decoder === null) {
      throw new TokenizerConfigError(`${file}: decoder is null (supported: ${SUPPORTED_DECODERS.join(", ")})`);
    }
    componentType(top.decoder, SUPPORTED_DECODERS, file, "decoder");
    parseField(byteLevelDecoderSchema, top.decoder, file, "decoder");

    for (const [token, id] of this.model.vocab) this.idToTokenMap.set(id, token);
    for (const t of top.added_tokens) {
      const existing = this.model.vocab.get(t.content);
      if (existing !== undefined && existing !== t.id) {
        throw new TokenizerConfigError(`${file}: added_tokens ${JSON.stringify(t.content)} has id ${t.id} but model.vocab gives ${existing}`);
      }
      this.idToTokenMap.set(t.id, t.content);
      this.addedIds.set(t.content, t.id);
      if (t.special) this.specialIds.add(t.id);
    }
    this.added = new AddedTokenMatcher(top.added_tokens);
    // A loop, not Math.max(...ids): spreading 128k ids as arguments overflows the stack.
    let maxId = -1;
    for (const id of this.idToTokenMap.keys()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;

    const cfgFile = `${source}/tokenizer_config.json`;
    const cfg: TokenizerConfigJson = tokenizerConfig === undefined ? {} : parseField(tokenizerConfigSchema, tokenizerConfig, cfgFile, "tokenizer_config");
    const idOf = (field: "bos_token" | "eos_token" | "pad_token"): number | null => {
      const content = tokenRefContent(cfg[field]);
      if (content === null) return null;
      const id = this.tokenToId(content);
      if (id === undefined) throw new TokenizerConfigError(`${cfgFile}: ${field} ${JSON.stringify(content)} is not a token of ${file}`);
      return id;
    };
    this.bosId = idOf("bos_token");
    this.eosId = idOf("eos_token");
    this.padId = idOf("pad_token");

    if (cfg.add_bos_token !== undefined || cfg.add_eos_token !== undefined) {
      // Like transformers' LlamaTokenizerFast: these flags replace the post-processor template.
      const need = (flag: boolean | undefined, id: number | null, field: string): number[] => {
        if (!flag) return [];
        if (id === null) throw new TokenizerConfigError(`${cfgFile}: add_${field} is true but ${field} is not set`);
        return [id];
      };
      this.wrap = { before: need(cfg.add_bos_token, this.bosId, "bos_token"), after: need(cfg.add_eos_token, this.eosId, "eos_token") };
    } else {
      this.wrap = top.post_processor === null ? { before: [], after: [] } : templateWrap(top.post_processor, file, "post_processor");
    }
  }

  /** Builds a tokenizer from parsed tokenizer.json (and optional tokenizer_config.json) contents. */
  static fromJson(tokenizerJson: unknown, tokenizerConfig?: unknown, source = "<memory>"): BpeTokenizer {
    return new BpeTokenizer(tokenizerJson, tokenizerConfig, source);
  }

  tokenToId(token: string): number | undefined {
    return this.addedIds.get(token) ?? this.model.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTokenMap.get(id);
  }

  /** The bytes token `id` contributes to decoded text (a stop-sequence matcher works on these). */
  tokenBytes(id: number): Uint8Array {
    const token = this.idToTokenMap.get(id);
    if (token === undefined) throw new RangeError(`tokenBytes: token id ${id} is not in the vocabulary (size ${this.vocabSize})`);
    return byteLevelTokenBytes(token);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** Rank of the merge (a, b), or undefined when the model has none. */
  mergeRank(a: string, b: string): number | undefined {
    return this.model.mergeRank(a, b);
  }

  /** The pieces BPE runs on for `text`, as plain text before byte mapping (no added-token matching). */
  preTokenize(text: string): string[] {
    const normalized = this.normalizer ? this.normalizer(text) : text;
    return preTokenize(this.preTokenizer, normalized).map((p) => p.text);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.run(text, options, false).ids;
  }

  encodeWithOffsets(text: string, options: EncodeOptions = {}): Encoding {
    return this.run(text, options, true);
  }

  private run(text: string, options: EncodeOptions, withOffsets: boolean): Encoding {
    const ids: number[] = [];
    const offsets: Array<[number, number]> = [];
    const addSpecial = options.addSpecialTokens ?? true;
    if (addSpecial) {
      for (const id of this.wrap.before) {
        ids.push(id);
        if (withOffsets) offsets.push([0, 0]);
      }
    }
    let byteCursor = 0; // UTF-8 offset of charCursor in text
    let charCursor = 0;
    const bytesTo = (charIndex: number): number => {
      byteCursor += utf8Length(text.slice(charCursor, charIndex));
      charCursor = charIndex;
      return byteCursor;
    };
    for (const seg of this.added.split(text)) {
      if (seg.kind === "added") {
        ids.push(seg.id);
        if (withOffsets) offsets.push([bytesTo(seg.start), bytesTo(seg.end)]);
        continue;
      }
      const raw = text.slice(seg.start, seg.end);
      // Offsets are exact for a null normalizer (DeepSeek, GPT-2, Llama-3); with one they index the normalized text.
      const segment = this.normalizer ? this.normalizer(raw) : raw;
      const segBytes = withOffsets ? bytesTo(seg.start) : 0;
      let pieceChar = 0;
      let pieceByte = 0;
      for (const piece of preTokenize(this.preTokenizer, segment)) {
        const { ids: pieceIds, lengths } = this.pieceTokens(piece.text);
        for (const id of pieceIds) ids.push(id);
        if (!withOffsets) continue;
        pieceByte += utf8Length(segment.slice(pieceChar, piece.start));
        pieceChar = piece.start;
        let cum = -piece.prefix;
        const base = segBytes + pieceByte;
        for (const len of lengths) {
          offsets.push([base + Math.max(0, cum), base + Math.max(0, cum + len)]);
          cum += len;
        }
      }
    }
    if (addSpecial) {
      for (const id of this.wrap.after) {
        ids.push(id);
        if (withOffsets) offsets.push([0, 0]);
      }
    }
    return { ids, offsets };
  }

  private pieceTokens(text: string): WordTokens {
    const hit = this.cache.get(text);
    if (hit) return hit;
    const tokens = this.model.tokenize(byteLevelString(text));
    if (text.length < CACHE_MAX_PIECE) {
      if (this.cache.size >= CACHE_CAPACITY) this.cache.clear();
      this.cache.set(text, tokens);
    }
    return tokens;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (const id of ids) {
      const token = this.idToTokenMap.get(id);
      if (token === undefined) throw new RangeError(`decode: token id ${id} is not in the vocabulary (size ${this.vocabSize})`);
      if (options.skipSpecialTokens && this.specialIds.has(id)) continue;
      tokens.push(token);
    }
    return byteLevelDecode(tokens);
  }
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new TokenizerConfigError(`${path}: cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new TokenizerConfigError(`${path}: invalid JSON: ${(err as Error).message}`);
  }
}

/** Loads `<dir>/tokenizer.json` and, when present, `<dir>/tokenizer_config.json`. */
export async function loadTokenizer(dir: string): Promise<BpeTokenizer> {
  const tokenizerJson = await readJson(join(dir, "tokenizer.json"), true);
  const tokenizerConfig = await readJson(join(dir, "tokenizer_config.json"), false);
  return BpeTokenizer.fromJson(tokenizerJson, tokenizerConfig, dir);
}
