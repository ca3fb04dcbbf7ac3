import { TypeRegistry } from "@polkadot/types";
import type { Codec } from "@polkadot/types-codec/types";
import { encodeAddress } from "@polkadot/util-crypto";
import { hexToU8a, isHex, u8aToHex } from "@polkadot/util";

/** SS58 prefix of the Bittensor chains (generic Substrate, 42). */
export const SS58_PREFIX = 42;

/** Where a storage value came from, so a decode failure can name it. */
export interface ValueOrigin {
  key: string;
  blockHash: string;
  blockNumber?: number;
}

export class StorageDecodeError extends Error {
  readonly key: string;
  readonly blockHash: string;
  readonly blockNumber: number | undefined;
  constructor(origin: ValueOrigin, typeName: string, reason: string) {
    const at = origin.blockNumber === undefined ? origin.blockHash : `#${origin.blockNumber} (${origin.blockHash})`;
    super(`malformed ${typeName} at storage key ${origin.key}, block ${at}: ${reason}`);
    this.name = "StorageDecodeError";
    this.key = origin.key;
    this.blockHash = origin.blockHash;
    this.blockNumber = origin.blockNumber;
  }
}

/**
 * pallet_commitments::types::Data. Variant order fixes the SCALE tag: 0 None, 1..=129 Raw0..Raw128,
 * 130..=133 the 32-byte hashes, 134 TimelockEncrypted, 135 ResetBondsFlag, 136 BigRaw.
 */
export const COMMITMENT_DATA_VARIANTS: Readonly<Record<string, string>> = commitmentDataVariants();

function commitmentDataVariants(): Record<string, string> {
  const variants: Record<string, string> = { None: "Null" };
  for (let len = 0; len <= 128; len++) variants[`Raw${len}`] = `[u8;${len}]`;
  return {
    ...variants,
    BlakeTwo256: "[u8;32]",
    Sha256: "[u8;32]",
    Keccak256: "[u8;32]",
    ShaThree256: "[u8;32]",
    TimelockEncrypted: "CommitmentTimelock",
    ResetBondsFlag: "Null",
    BigRaw: "Bytes",
  };
}

const registry = new TypeRegistry();
registry.register({
  CommitmentTimelock: { encrypted: "Bytes", reveal_round: "u64" },
  CommitmentData: { _enum: { ...COMMITMENT_DATA_VARIANTS } },
  CommitmentInfo: { fields: "Vec<CommitmentData>" },
  Registration: { deposit: "u64", block: "u32", info: "CommitmentInfo" },
});

/** One decoded Data value of a commitment. */
export type CommitmentField =
  | { kind: "None" }
  | { kind: "Raw"; bytes: Uint8Array }
  | { kind: "BlakeTwo256" | "Sha256" | "Keccak256" | "ShaThree256"; hash: string }
  | { kind: "TimelockEncrypted"; encrypted: Uint8Array; revealRound: bigint }
  | { kind: "ResetBondsFlag" }
  | { kind: "BigRaw"; bytes: Uint8Array };

export interface Registration {
  deposit: bigint;
  block: number;
  fields: CommitmentField[];
}

function toBytes(value: string | Uint8Array, origin: ValueOrigin, typeName: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (!isHex(value)) throw new StorageDecodeError(origin, typeName, "value is not 0x-prefixed hex");
  return hexToU8a(value);
}

/** Decode with the codec and insist every byte was consumed: trailing bytes mean the type is wrong. */
function decodeExact<T extends Codec>(typeName: string, value: string | Uint8Array, origin: ValueOrigin): T {
  const bytes = toBytes(value, origin, typeName);
  let decoded: T;
  try {
    decoded = registry.createType(typeName, bytes) as unknown as T;
  } catch (error) {
    // The codec's message repeats the whole type definition; its last clause is the actual fault.
    const reason =
      (error as Error).message
        .split("::")
        .pop()
        ?.trim()
        .replace(/, in None, Raw0.*$/s, " (Data tags are 0..136)")
        .slice(0, 200) || "decode failed";
    throw new StorageDecodeError(origin, typeName, reason);
  }
  if (decoded.encodedLength > bytes.length) {
    throw new StorageDecodeError(origin, typeName, `value is ${bytes.length} bytes, too short for its contents`);
  }
  if (decoded.encodedLength < bytes.length) {
    throw new StorageDecodeError(origin, typeName, `${bytes.length - decoded.encodedLength} trailing bytes after the value`);
  }
  return decoded;
}

export function decodeU16(value: string | Uint8Array, origin: ValueOrigin): number {
  return decodeExact<Codec & { toNumber(): number }>("u16", value, origin).toNumber();
}

export function decodeU64(value: string | Uint8Array, origin: ValueOrigin): bigint {
  return decodeExact<Codec & { toBigInt(): bigint }>("u64", value, origin).toBigInt();
}

export function decodeVecU64(value: string | Uint8Array, origin: ValueOrigin): bigint[] {
  return decodeExact<Codec & { map<R>(f: (v: { toBigInt(): bigint }) => R): R[] }>("Vec<u64>", value, origin).map((v) => v.toBigInt());
}

export function decodeVecU16(value: string | Uint8Array, origin: ValueOrigin): number[] {
  return decodeExact<Codec & { map<R>(f: (v: { toNumber(): number }) => R): R[] }>("Vec<u16>", value, origin).map((v) => v.toNumber());
}

export function decodeVecBool(value: string | Uint8Array, origin: ValueOrigin): boolean[] {
  const bytes = toBytes(value, origin, "Vec<bool>");
  const decoded = decodeExact<Codec & { map<R>(f: (v: { isTrue: boolean }) => R): R[] }>("Vec<bool>", bytes, origin);
  // The codec reads any non-zero byte as true; SCALE allows only 0 and 1.
  const flags = bytes.subarray(bytes.length - decoded.map(() => 0).length);
  if (flags.some((b) => b > 1)) throw new StorageDecodeError(origin, "Vec<bool>", "bool byte other than 0 or 1");
  return decoded.map((v) => v.isTrue);
}

export function decodeAccountIdBytes(value: string | Uint8Array, origin: ValueOrigin): Uint8Array {
  const bytes = toBytes(value, origin, "AccountId32");
  if (bytes.length !== 32) throw new StorageDecodeError(origin, "AccountId32", `expected 32 bytes, got ${bytes.length}`);
  return bytes;
}

/** AccountId32 → SS58 (prefix 42). */
export function decodeAccountId(value: string | Uint8Array, origin: ValueOrigin): string {
  return encodeAddress(decodeAccountIdBytes(value, origin), SS58_PREFIX);
}

interface DataCodec extends Codec {
  index: number;
  value: Codec & { toU8a(bare?: boolean): Uint8Array; toHex(): string };
}

const HASH_KINDS = ["BlakeTwo256", "Sha256", "Keccak256", "ShaThree256"] as const;

/** Maps by SCALE tag rather than the codec's `type` name, which rebuilds the 137-name key list on every read. */
function toField(data: DataCodec): CommitmentField {
  const tag = data.index;
  if (tag === 0) return { kind: "None" };
  if (tag <= 129) return { kind: "Raw", bytes: data.value.toU8a(true) };
  if (tag <= 133) return { kind: HASH_KINDS[tag - 130]!, hash: data.value.toHex() };
  if (tag === 134) {
    const s = data.value as unknown as { get(k: string): (Codec & { toU8a(b: boolean): Uint8Array; toBigInt(): bigint }) | undefined };
    return { kind: "TimelockEncrypted", encrypted: s.get("encrypted")!.toU8a(true), revealRound: s.get("reveal_round")!.toBigInt() };
  }
  if (tag === 135) return { kind: "ResetBondsFlag" };
  if (tag === 136) return { kind: "BigRaw", bytes: data.value.toU8a(true) };
  throw new Error(`unhandled commitment Data tag ${tag}`);
}

/** pallet_commitments Registration { deposit: u64, block: u32, info: { fields: Vec<Data> } }. */
export function decodeRegistration(value: string | Uint8Array, origin: ValueOrigin): Registration {
  const reg = decodeExact<Codec & { get(k: string): Codec | undefined }>("Registration", value, origin);
  const deposit = (reg.get("deposit") as Codec & { toBigInt(): bigint }).toBigInt();
  const block = (reg.get("block") as Codec & { toNumber(): number }).toNumber();
  const info = reg.get("info") as Codec & { get(k: string): Codec | undefined };
  const fields = (info.get("fields") as Codec & { map<R>(f: (d: DataCodec) => R): R[] }).map(toField);
  return { deposit, block, fields };
}

/** Text of the first Raw/BigRaw field (a miner's JSON payload), or null when there is none or it is not UTF-8. */
export function commitmentText(registration: Registration): string | null {
  const first = registration.fields[0];
  if (!first || (first.kind !== "Raw" && first.kind !== "BigRaw")) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(first.bytes);
  } catch {
    return null;
  }
}

export { u8aToHex };
