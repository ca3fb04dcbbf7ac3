/**
 * Hand-written SCALE encoder for the fake node, deliberately independent of the codec library the package decodes
 * with; scale.test.ts checks it reproduces captured finney values byte for byte.
 */
export function compact(n: number): Uint8Array {
  if (n < 1 << 6) return new Uint8Array([n << 2]);
  if (n < 1 << 14) return new Uint8Array([((n << 2) | 1) & 0xff, n >> 6]);
  if (n < 1 << 30) {
    const v = (n << 2) | 2;
    return new Uint8Array([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff]);
  }
  throw new RangeError("compact: value too large for this encoder");
}

export function uint(value: number | bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = BigInt(value);
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export const hex = (bytes: Uint8Array): string => `0x${Buffer.from(bytes).toString("hex")}`;

export type DataValue =
  | { None: null }
  | { Raw: Uint8Array }
  | { BlakeTwo256: Uint8Array }
  | { Sha256: Uint8Array }
  | { Keccak256: Uint8Array }
  | { ShaThree256: Uint8Array }
  | { TimelockEncrypted: { encrypted: Uint8Array; revealRound: bigint } }
  | { ResetBondsFlag: null }
  | { BigRaw: Uint8Array };

/** pallet_commitments Data: tag 0 None, 1+len Raw (no length prefix), 130..133 hashes, 134 timelock, 135 reset, 136 BigRaw. */
export function encodeData(data: DataValue): Uint8Array {
  if ("None" in data) return new Uint8Array([0]);
  if ("Raw" in data) {
    if (data.Raw.length > 128) throw new RangeError("Raw data is at most 128 bytes");
    return concat(new Uint8Array([1 + data.Raw.length]), data.Raw);
  }
  if ("BlakeTwo256" in data) return concat(new Uint8Array([130]), data.BlakeTwo256);
  if ("Sha256" in data) return concat(new Uint8Array([131]), data.Sha256);
  if ("Keccak256" in data) return concat(new Uint8Array([132]), data.Keccak256);
  if ("ShaThree256" in data) return concat(new Uint8Array([133]), data.ShaThree256);
  if ("TimelockEncrypted" in data) {
    const { encrypted, revealRound } = data.TimelockEncrypted;
    return concat(new Uint8Array([134]), compact(encrypted.length), encrypted, uint(revealRound, 8));
  }
  if ("ResetBondsFlag" in data) return new Uint8Array([135]);
  return concat(new Uint8Array([136]), compact(data.BigRaw.length), data.BigRaw);
}

export function encodeRegistration(deposit: bigint, block: number, fields: DataValue[]): Uint8Array {
  return concat(uint(deposit, 8), uint(block, 4), compact(fields.length), ...fields.map(encodeData));
}
