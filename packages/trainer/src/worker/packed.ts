// Packed training data for the worker (format documented in worker/data.py):
// <name>.json descriptor + <name>.ids.bin (int32 LE [N, L]) + <name>.mask.bin (uint8 0/1 [N, L]).
import { mkdir, rename, writeFile } from "node:fs/promises";
import { endianness } from "node:os";
import { join } from "node:path";
import { z } from "zod";

export const PACKED_FORMAT = "subnet-review.packed-sequences";

export const packedDescriptorSchema = z.object({
  format: z.literal(PACKED_FORMAT),
  version: z.literal(1),
  seq_len: z.number().int().min(2),
  num_sequences: z.number().int().min(1),
  ids_file: z.string().min(1),
  mask_file: z.string().min(1),
});
export type PackedDescriptor = z.infer<typeof packedDescriptorSchema>;

export interface PackedSequences {
  seqLen: number;
  /** row-major [num_sequences, seqLen] token ids */
  ids: Int32Array;
  /** 1 where the token is a training target, else 0 */
  mask: Uint8Array;
}

/** Writes the three files into `dir` and returns the descriptor path (the worker's spec.data). */
export async function writePackedSequences(dir: string, name: string, data: PackedSequences): Promise<string> {
  const { seqLen, ids, mask } = data;
  if (!Number.isInteger(seqLen) || seqLen < 2) throw new Error(`seqLen must be an integer >= 2, got ${seqLen}`);
  if (ids.length === 0 || ids.length % seqLen !== 0) throw new Error(`ids length ${ids.length} must be a positive multiple of seqLen ${seqLen}`);
  if (mask.length !== ids.length) throw new Error(`mask length ${mask.length} must equal ids length ${ids.length}`);
  if (mask.some((m) => m > 1)) throw new Error("mask values must be 0 or 1");
  if (!/^[\w.-]+$/.test(name)) throw new Error(`name ${JSON.stringify(name)} may hold only letters, digits, '_', '.', '-'`);
  await mkdir(dir, { recursive: true });
  const descriptor: PackedDescriptor = {
    format: PACKED_FORMAT,
    version: 1,
    seq_len: seqLen,
    num_sequences: ids.length / seqLen,
    ids_file: `${name}.ids.bin`,
    mask_file: `${name}.mask.bin`,
  };
  // Int32Array is host-endian and the format is little-endian
  if (endianness() !== "LE") throw new Error("writePackedSequences needs a little-endian host");
  const ids32 = new Int32Array(ids);
  await writeFile(join(dir, descriptor.ids_file), new Uint8Array(ids32.buffer, ids32.byteOffset, ids32.byteLength));
  await writeFile(join(dir, descriptor.mask_file), mask);
  const path = join(dir, `${name}.json`);
  await writeFile(`${path}.tmp`, JSON.stringify(descriptor));
  await rename(`${path}.tmp`, path); // descriptor last: a reader never sees it before its data
  return path;
}
