import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { u8aToHex } from "@polkadot/util";
import { describe, expect, it } from "vitest";
import {
  commitmentOfKey,
  commitmentOfPrefix,
  keysKey,
  lastUpdateKey,
  storagePrefix,
  subnetworkNKey,
  twox128,
  u16le,
  uidsKey,
  accountFromCommitmentKey,
} from "../src/index.ts";

const REF = join(process.env.SHARED_DIR || fileURLToPath(new URL("../../../../shared", import.meta.url)), "reference/chain");
const samples = JSON.parse(readFileSync(`${REF}/finney_storage_samples.json`, "utf8")) as {
  entries: { storage: string; args: { netuid?: number; hotkey?: string }; params: [string, string | null] }[];
};
const commitments = JSON.parse(readFileSync(`${REF}/commitments_samples.json`, "utf8")) as {
  localnet_raw: { storage_key: string; args: { netuid: number; hotkey: string } };
};
const captured = (storage: string, netuid: number) => samples.entries.find((e) => e.storage === storage && e.args.netuid === netuid)!.params[0];

describe("hashers", () => {
  it("twox128 matches the known constants", () => {
    expect(u8aToHex(twox128("System"))).toBe("0x26aa394eea5630e07c48ae0c9558cef7");
    expect(u8aToHex(twox128("Account"))).toBe("0xb99d880ec681799c0cf30e8886371da9");
  });

  it("pallet and item prefixes match the reference", () => {
    expect(u8aToHex(twox128("SubtensorModule"))).toBe("0x658faa385070e074c85bf6b568cf0555");
    expect(u8aToHex(twox128("Commitments"))).toBe("0xca407206ec1ab726b2636c4b145ac287");
    expect(u8aToHex(twox128("CommitmentOf"))).toBe("0x419a60ae8b01e6dcaebd7317e43c69bf");
    expect(u8aToHex(twox128("Keys"))).toBe("0x9f99a2ce711f3a31b2fc05604c93f179");
    expect(u8aToHex(twox128("LastUpdate"))).toBe("0x696e262a16e52255a69d8acd79354146");
  });

  it("u16 keys are little-endian and range-checked", () => {
    expect([...u16le(102)]).toEqual([102, 0]);
    expect([...u16le(1024)]).toEqual([0, 4]);
    expect(() => u16le(70000)).toThrow(/0\.\.65535/);
  });
});

describe("storage keys equal keys captured from finney", () => {
  it("Identity-keyed items", () => {
    expect(lastUpdateKey(1)).toBe(captured("SubtensorModule.LastUpdate", 1));
    expect(subnetworkNKey(1)).toBe(captured("SubtensorModule.SubnetworkN", 1));
    expect(u8aToHex(storagePrefix("SubtensorModule", "Tempo")) + "1700").toBe(captured("SubtensorModule.Tempo", 23));
    expect(keysKey(102, 5)).toBe(`${u8aToHex(storagePrefix("SubtensorModule", "Keys"))}66000500`);
  });

  it("Blake2_128Concat (Uids) and Twox64Concat (CommitmentOf) accounts", () => {
    const uids = samples.entries.filter((e) => e.storage === "SubtensorModule.Uids");
    for (const e of uids) expect(uidsKey(e.args.netuid!, e.args.hotkey!)).toBe(e.params[0]);
    const commit = samples.entries.find((e) => e.storage === "Commitments.CommitmentOf")!;
    expect(commitmentOfKey(commit.args.netuid!, commit.args.hotkey!)).toBe(commit.params[0]);
    const local = commitments.localnet_raw;
    expect(commitmentOfKey(local.args.netuid, local.args.hotkey)).toBe(local.storage_key);
  });

  it("reads the account back out of a CommitmentOf key and refuses a tampered one", () => {
    const local = commitments.localnet_raw;
    expect(u8aToHex(accountFromCommitmentKey(local.storage_key, 2))).toBe("0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
    expect(commitmentOfPrefix(2)).toBe(local.storage_key.slice(0, 2 + 68));
    const tampered = local.storage_key.slice(0, 72) + "00" + local.storage_key.slice(74);
    expect(() => accountFromCommitmentKey(tampered, 2)).toThrow(/twox64/);
    expect(() => accountFromCommitmentKey(local.storage_key, 3)).toThrow(/not a Commitments.CommitmentOf key for netuid 3/);
  });
});
