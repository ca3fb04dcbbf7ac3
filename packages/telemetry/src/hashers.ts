import { blake2AsU8a, xxhashAsU8a } from "@polkadot/util-crypto";
import { u8aConcat, u8aToHex, hexToU8a, stringToU8a } from "@polkadot/util";

/** Substrate storage hashers, as named in runtime metadata. Inputs are SCALE-encoded key bytes. */
export function twox128(data: Uint8Array | string): Uint8Array {
  return xxhashAsU8a(typeof data === "string" ? stringToU8a(data) : data, 128);
}

export function twox64Concat(data: Uint8Array): Uint8Array {
  return u8aConcat(xxhashAsU8a(data, 64), data);
}

export function blake2_128Concat(data: Uint8Array): Uint8Array {
  return u8aConcat(blake2AsU8a(data, 128), data);
}

export function identity(data: Uint8Array): Uint8Array {
  return data;
}

/** SCALE u16 little-endian, the encoding of NetUid and uid keys. */
export function u16le(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`u16 key must be an integer 0..65535, got ${value}`);
  }
  return new Uint8Array([value & 0xff, value >> 8]);
}

/** twox128(pallet) ++ twox128(item): the prefix every key of a storage item starts with. */
export function storagePrefix(pallet: string, item: string): Uint8Array {
  return u8aConcat(twox128(pallet), twox128(item));
}

export { u8aConcat, u8aToHex, hexToU8a };
