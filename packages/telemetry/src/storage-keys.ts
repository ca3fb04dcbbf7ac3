import { decodeAddress } from "@polkadot/util-crypto";
import { blake2_128Concat, hexToU8a, identity, storagePrefix, twox64Concat, u16le, u8aConcat, u8aToHex } from "./hashers.ts";

/** Hex storage keys for the items telemetry reads, built with the hashers the runtime metadata names. */
const SUBNETWORK_N = storagePrefix("SubtensorModule", "SubnetworkN");
const KEYS = storagePrefix("SubtensorModule", "Keys");
const UIDS = storagePrefix("SubtensorModule", "Uids");
const LAST_UPDATE = storagePrefix("SubtensorModule", "LastUpdate");
const INCENTIVE = storagePrefix("SubtensorModule", "Incentive");
const ACTIVE = storagePrefix("SubtensorModule", "Active");
const COMMITMENT_OF = storagePrefix("Commitments", "CommitmentOf");

export type HexKey = `0x${string}`;

const hex = (u8a: Uint8Array): HexKey => u8aToHex(u8a) as HexKey;

/** AccountId32 bytes from an SS58 address or 0x-hex public key. */
export function accountIdBytes(account: string): Uint8Array {
  const bytes = account.startsWith("0x") ? hexToU8a(account) : decodeAddress(account);
  if (bytes.length !== 32) throw new Error(`account must be 32 bytes (SS58 or 0x hex), got ${bytes.length} from ${account}`);
  return bytes;
}

export const subnetworkNKey = (netuid: number): HexKey => hex(u8aConcat(SUBNETWORK_N, identity(u16le(netuid))));
export const keysPrefix = (netuid: number): HexKey => hex(u8aConcat(KEYS, identity(u16le(netuid))));
export const keysKey = (netuid: number, uid: number): HexKey => hex(u8aConcat(KEYS, identity(u16le(netuid)), identity(u16le(uid))));
export const uidsKey = (netuid: number, account: string): HexKey => hex(u8aConcat(UIDS, identity(u16le(netuid)), blake2_128Concat(accountIdBytes(account))));
export const lastUpdateKey = (netuid: number): HexKey => hex(u8aConcat(LAST_UPDATE, identity(u16le(netuid))));
export const incentiveKey = (netuid: number): HexKey => hex(u8aConcat(INCENTIVE, identity(u16le(netuid))));
export const activeKey = (netuid: number): HexKey => hex(u8aConcat(ACTIVE, identity(u16le(netuid))));
export const commitmentOfPrefix = (netuid: number): HexKey => hex(u8aConcat(COMMITMENT_OF, identity(u16le(netuid))));
export const commitmentOfKey = (netuid: number, account: string): HexKey =>
  hex(u8aConcat(COMMITMENT_OF, identity(u16le(netuid)), twox64Concat(accountIdBytes(account))));

/**
 * The AccountId32 at the end of a CommitmentOf key (prefix 32 + netuid 2 + twox64 8 + account 32 bytes).
 * The twox64 part is re-hashed so a key from another item or a corrupted key is refused, not misread.
 */
export function accountFromCommitmentKey(key: string, netuid: number): Uint8Array {
  const prefix = commitmentOfPrefix(netuid);
  const bytes = hexToU8a(key);
  if (!key.toLowerCase().startsWith(prefix) || bytes.length !== 32 + 2 + 8 + 32) {
    throw new Error(`storage key ${key} is not a Commitments.CommitmentOf key for netuid ${netuid}`);
  }
  const account = bytes.slice(42);
  if (hex(twox64Concat(account)) !== hex(bytes.slice(34))) {
    throw new Error(`storage key ${key}: twox64 hash does not match its account id`);
  }
  return account;
}
