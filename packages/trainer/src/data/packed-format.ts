import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { endianness } from "node:os";
import { basename, dirname, join } from "node:path";
import { z } from "zod";

/** packed.json, the manifest of a packed SFT dataset (see FORMAT.md). */
export const PACKED_FORMAT = "subnet-review.packed.v1";

export const packedManifestSchema = z
  .object({
    format: z.literal(PACKED_FORMAT),
    seqLen: z.number().int().min(2),
    sequences: z.number().int().positive(),
    tokens: z.number().int().positive(),
    targetTokens: z.number().int().nonnegative(),
    vocabSize: z.number().int().positive(),
    padId: z.number().int().nonnegative(),
    source: z.object({ path: z.string(), lines: z.number().int().positive(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
    template: z.string(),
    seed: z.number().int().nonnegative(),
    examples: z.number().int().positive(),
    splitExamples: z.number().int().nonnegative(),
    paddingTokens: z.number().int().nonnegative(),
    // Rows holding no target (prompt text only) left out of the file; absent in datasets written before.
    droppedRows: z.number().int().nonnegative().default(0),
    tokenizer: z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
    chatTemplate: z.object({
      name: z.string(),
      prefix: z.string(),
      system: z.string(),
      user: z.string(),
      assistant: z.string(),
      assistantPrompt: z.string(),
      specialTokens: z.array(z.string()),
    }),
  })
  .refine((m) => m.tokens === m.sequences * m.seqLen, { message: "tokens must equal sequences * seqLen", path: ["tokens"] })
  .refine((m) => m.padId < m.vocabSize, { message: "padId must be < vocabSize", path: ["padId"] });
export type PackedManifest = z.infer<typeof packedManifestSchema>;

export const INPUT_IDS_FILE = "input_ids.i32";
export const LOSS_MASK_FILE = "loss_mask.u8";
export const MANIFEST_FILE = "packed.json";

function int32LittleEndian(ids: Int32Array): Buffer {
  if (endianness() === "LE") return Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength);
  const buf = Buffer.alloc(ids.length * 4);
  for (let i = 0; i < ids.length; i++) buf.writeInt32LE(ids[i]!, i * 4);
  return buf;
}

/**
 * Writes the three files into a temp directory next to `outDir`, then renames it into place, so
 * readers see either the old dataset or the whole new one. An existing `outDir` is replaced only
 * if it is a packed dataset (has packed.json) or empty.
 */
export async function writePackedDataset(outDir: string, manifest: PackedManifest, inputIds: Int32Array, lossMask: Uint8Array): Promise<void> {
  packedManifestSchema.parse(manifest);
  if (inputIds.length !== manifest.tokens || lossMask.length !== manifest.tokens) {
    throw new RangeError(`arrays hold ${inputIds.length} ids / ${lossMask.length} mask bytes; manifest says ${manifest.tokens}`);
  }
  const existing = await readdir(outDir).catch(() => null);
  if (existing && existing.length > 0 && !existing.includes(MANIFEST_FILE)) {
    throw new Error(`refusing to replace ${outDir}: it exists and is not a packed dataset (no ${MANIFEST_FILE})`);
  }
  const parent = dirname(outDir);
  await mkdir(parent, { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = join(parent, `.${basename(outDir)}.tmp-${suffix}`);
  const old = join(parent, `.${basename(outDir)}.old-${suffix}`);
  try {
    await mkdir(tmp);
    await writeFile(join(tmp, INPUT_IDS_FILE), int32LittleEndian(inputIds));
    await writeFile(join(tmp, LOSS_MASK_FILE), lossMask);
    await writeFile(join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    if (existing) await rename(outDir, old);
    await rename(tmp, outDir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (existing) await rm(old, { recursive: true, force: true });
}

export interface PackedDataset {
  manifest: PackedManifest;
  inputIds: Int32Array;
  lossMask: Uint8Array;
}

/** Reads and checks a packed dataset directory (sizes, id range, mask values). */
export async function readPackedDataset(dir: string): Promise<PackedDataset> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const parsed = packedManifestSchema.safeParse(JSON.parse(await readFile(manifestPath, "utf8")));
  if (!parsed.success) {
    throw new Error(`${manifestPath}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const manifest = parsed.data;
  const idBytes = await readFile(join(dir, INPUT_IDS_FILE));
  const lossMask = new Uint8Array(await readFile(join(dir, LOSS_MASK_FILE)));
  if (idBytes.length !== manifest.tokens * 4) throw new Error(`${dir}/${INPUT_IDS_FILE}: ${idBytes.length} bytes, expected ${manifest.tokens * 4}`);
  if (lossMask.length !== manifest.tokens) throw new Error(`${dir}/${LOSS_MASK_FILE}: ${lossMask.length} bytes, expected ${manifest.tokens}`);
  const inputIds = new Int32Array(manifest.tokens);
  for (let i = 0; i < manifest.tokens; i++) {
    const id = idBytes.readInt32LE(i * 4);
    if (id < 0 || id >= manifest.vocabSize) throw new Error(`${dir}/${INPUT_IDS_FILE}: id ${id} at ${i} outside [0, ${manifest.vocabSize})`);
    inputIds[i] = id;
  }
  let targets = 0;
  for (const m of lossMask) {
    if (m > 1) throw new Error(`${dir}/${LOSS_MASK_FILE}: mask values must be 0 or 1`);
    targets += m;
  }
  if (targets !== manifest.targetTokens) throw new Error(`${dir}: ${targets} target tokens in the mask, manifest says ${manifest.targetTokens}`);
  return { manifest, inputIds, lossMask };
}
