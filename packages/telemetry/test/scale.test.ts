import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { Metadata, TypeRegistry } from "@polkadot/types";
import { u8aToHex } from "@polkadot/util";
import { describe, expect, it } from "vitest";
import { commitmentText, decodeAccountId, decodeRegistration, decodeU16, decodeVecBool, decodeVecU16, decodeVecU64, StorageDecodeError } from "../src/index.ts";
import { encodeRegistration, hex, type DataValue } from "./scale-encode.ts";

const REF = join(process.env.SHARED_DIR || fileURLToPath(new URL("../../../../shared", import.meta.url)), "reference/chain");
const storage = JSON.parse(readFileSync(`${REF}/finney_storage_samples.json`, "utf8")) as {
  entries: {
    storage: string;
    args: { netuid?: number };
    params: [string, string | null];
    result: string | null;
    decoded: { value?: number; len?: number; uid0?: number };
  }[];
  accounts: { ss58: string; pubkey: string }[];
};
const commitments = JSON.parse(readFileSync(`${REF}/commitments_samples.json`, "utf8")) as {
  finney_decoded: { decoded: { deposit: number; block: number }; fields_utf8: (string | null)[]; reencoded_scale_hex: string }[];
  localnet_raw: { value: string; storage_key: string };
};
const at = { key: "0xkey", blockHash: `0x${"ab".repeat(32)}`, blockNumber: 8_668_092 };

describe("decoding captured finney values", () => {
  it("u16 and Vec<u64>", () => {
    for (const e of storage.entries.filter((x) =>
      ["SubtensorModule.SubnetworkN", "SubtensorModule.Tempo", "SubtensorModule.TotalNetworks", "SubtensorModule.Uids"].includes(x.storage),
    )) {
      expect(decodeU16(e.result!, at)).toBe(e.decoded.value);
    }
    const lastUpdate = storage.entries.find((x) => x.storage === "SubtensorModule.LastUpdate")!;
    const blocks = decodeVecU64(lastUpdate.result!, at);
    expect(blocks).toHaveLength(lastUpdate.decoded.len!);
    expect(blocks[0]).toBe(BigInt(lastUpdate.decoded.uid0!));
  });

  it("Vec<u16>, Vec<bool> and AccountId32 → SS58 42", () => {
    expect(decodeVecU16("0x0cffff00000100", at)).toEqual([65535, 0, 1]);
    expect(decodeVecBool("0x0c010001", at)).toEqual([true, false, true]);
    for (const a of storage.accounts) expect(decodeAccountId(a.pubkey, at)).toBe(a.ss58);
  });

  it("Registration values from finney and localnet", () => {
    for (const sample of commitments.finney_decoded) {
      const reg = decodeRegistration(sample.reencoded_scale_hex, at);
      expect(reg.block).toBe(sample.decoded.block);
      expect(reg.deposit).toBe(BigInt(sample.decoded.deposit));
      expect(commitmentText(reg)).toBe(sample.fields_utf8[0]);
    }
    const local = decodeRegistration(commitments.localnet_raw.value, at);
    expect(local).toMatchObject({ deposit: 0n, block: 289 });
    expect(local.fields[0]).toEqual({ kind: "Raw", bytes: new Uint8Array([0, 1, 2, 3]) });
  });

  it("agrees with the runtime metadata's own Registration type (spec 393)", () => {
    const registry = new TypeRegistry();
    const metadata = new Metadata(registry, readFileSync(`${REF}/finney_metadata_v16_spec393.scale`));
    registry.setMetadata(metadata);
    const pallet = metadata.asLatest.pallets.find((p) => p.name.toString() === "Commitments")!;
    const item = pallet.storage.unwrap().items.find((i) => i.name.toString() === "CommitmentOf")!;
    const typeName = registry.lookup.getTypeDef(item.type.asMap.value).lookupName ?? registry.createLookupType(item.type.asMap.value);
    for (const value of [...commitments.finney_decoded.map((s) => s.reencoded_scale_hex), commitments.localnet_raw.value]) {
      const byMetadata = registry.createType(typeName, value).toJSON() as { block: number; info: { fields: unknown[] } };
      const ours = decodeRegistration(value, at);
      expect(ours.block).toBe(byMetadata.block);
      expect(ours.fields).toHaveLength(byMetadata.info.fields.length);
    }
  });
});

describe("every Data tag round-trips through the fake node's hand encoder", () => {
  it("encoder reproduces captured bytes", () => {
    expect(hex(encodeRegistration(0n, 289, [{ Raw: new Uint8Array([0, 1, 2, 3]) }]))).toBe(commitments.localnet_raw.value);
    expect(hex(encodeRegistration(0n, 5866237, [{ ResetBondsFlag: null }]))).toBe(commitments.finney_decoded[1]!.reencoded_scale_hex);
  });

  it("all variants decode", () => {
    const h = new Uint8Array(32).fill(7);
    const fields: DataValue[] = [
      { None: null },
      { Raw: new Uint8Array(0) },
      { Raw: new Uint8Array(128).fill(65) },
      { BlakeTwo256: h },
      { Sha256: h },
      { Keccak256: h },
      { ShaThree256: h },
      { TimelockEncrypted: { encrypted: new Uint8Array(300).fill(1), revealRound: 99n } },
      { ResetBondsFlag: null },
      { BigRaw: new Uint8Array(200).fill(66) },
    ];
    const reg = decodeRegistration(encodeRegistration(5n, 7, fields), at);
    expect(reg.fields.map((f) => f.kind)).toEqual([
      "None",
      "Raw",
      "Raw",
      "BlakeTwo256",
      "Sha256",
      "Keccak256",
      "ShaThree256",
      "TimelockEncrypted",
      "ResetBondsFlag",
      "BigRaw",
    ]);
    expect(reg.fields[3]).toEqual({ kind: "BlakeTwo256", hash: u8aToHex(h) });
    expect(reg.fields[7]).toMatchObject({ kind: "TimelockEncrypted", revealRound: 99n });
    expect((reg.fields[9] as { bytes: Uint8Array }).bytes).toHaveLength(200);
  });
});

describe("malformed values name the key and block", () => {
  const cases: [string, () => unknown, RegExp][] = [
    ["unknown Data tag", () => decodeRegistration("0x0000000000000000210100000490", at), /Enum via index 144/],
    ["truncated Raw", () => decodeRegistration("0x00000000000000002101000004050001", at), /./],
    ["trailing bytes", () => decodeRegistration(`${commitments.localnet_raw.value}ffff`, at), /2 trailing bytes/],
    ["short u16", () => decodeU16("0x01", at), /too short/],
    ["bool byte 2", () => decodeVecBool("0x0402", at), /0 or 1/],
    ["31-byte account", () => decodeAccountId(`0x${"11".repeat(31)}`, at), /32 bytes/],
    ["not hex", () => decodeVecU64("0xzz", at), /hex/],
  ];
  for (const [name, run, reason] of cases) {
    it(name, () => {
      let error: unknown;
      try {
        run();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StorageDecodeError);
      expect((error as Error).message).toContain("storage key 0xkey");
      expect((error as Error).message).toContain("#8668092");
      expect((error as Error).message).toMatch(reason);
    });
  }
});
