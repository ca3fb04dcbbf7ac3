import { encodeAddress } from "@polkadot/util-crypto";
import type { SubstrateRpc } from "./rpcClient.ts";
import { boundedMemo } from "./memo.ts";
import { storageKeysSchema as keyList, storageValueSchema as storageValue, type BlockHash } from "./rpcSchemas.ts";
import { u8aToHex } from "@polkadot/util";
import { commitmentText, decodeAccountIdBytes, decodeRegistration, decodeU16, SS58_PREFIX, StorageDecodeError } from "./scale.ts";
import { phaseWindow, type CycleWindow } from "./schedule.ts";
import type { ActiveMiner, CycleBlockHashes, CycleRecord } from "./store.ts";
import { accountFromCommitmentKey, accountIdBytes, commitmentOfPrefix, keysKey, subnetworkNKey } from "./storageKeys.ts";

const ss58Of = boundedMemo((pubkeyHex) => encodeAddress(pubkeyHex as `0x${string}`, SS58_PREFIX));
const accountHexOfCommitmentKey = (() => {
  const byNetuid = new Map<number, (key: string) => string>();
  return (key: string, netuid: number) => {
    let memo = byNetuid.get(netuid);
    if (!memo) byNetuid.set(netuid, (memo = boundedMemo((k) => u8aToHex(accountFromCommitmentKey(k, netuid)))));
    return memo(key.toLowerCase());
  };
})();

/** Block numbers a cycle needs hashes for: its first and last block, and the read block right after MinerCommit2. */
export function cycleBlocks(window: CycleWindow): { firstBlock: number; lastBlock: number; readBlock: number } {
  return { firstBlock: window.firstBlock, lastBlock: window.lastBlock, readBlock: phaseWindow(window, "MinerCommit2").end + 1 };
}

export interface ReadCycleInput {
  netuid: number;
  window: CycleWindow;
  hashes: CycleBlockHashes;
  /** SS58 hotkeys of the owner's validator whitelist: never counted as miners. */
  validatorWhitelist: ReadonlySet<string>;
}

/**
 * Reads one cycle at its read block: SubnetworkN + CommitmentOf keys (one batch), then Keys(0..N-1) and every
 * CommitmentOf value (one batch of ~50-key queryStorageAt chunks). Active miners are registered, non-whitelisted
 * hotkeys whose commitment block lies in MinerCommit1 or MinerCommit2 of this cycle.
 */
export async function readCycle(rpc: SubstrateRpc, input: ReadCycleInput): Promise<CycleRecord> {
  const { netuid, window, hashes } = input;
  const { readBlock } = cycleBlocks(window);
  const at = hashes.readBlockHash as BlockHash;
  const origin = (key: string) => ({ key, blockHash: at, blockNumber: readBlock });

  const nKey = subnetworkNKey(netuid);
  const prefix = commitmentOfPrefix(netuid);
  const pageSize = 1000;
  const [nValue, firstPage] = await rpc.batch([
    { method: "state_getStorage", params: [nKey, at], schema: storageValue },
    { method: "state_getKeysPaged", params: [prefix, pageSize, null, at], schema: keyList },
  ] as const);
  const commitmentKeys = [...firstPage];
  while (commitmentKeys.length > 0 && commitmentKeys.length % pageSize === 0) {
    const page = await rpc.keysPaged(prefix, pageSize, commitmentKeys.at(-1)!, at);
    commitmentKeys.push(...page);
    if (page.length < pageSize) break;
  }
  const registeredNeurons = nValue === null ? 0 : decodeU16(nValue, origin(nKey));

  const uidKeys = Array.from({ length: registeredNeurons }, (_, uid) => keysKey(netuid, uid));
  const values = await rpc.queryStorageAt([...uidKeys, ...commitmentKeys], at);

  // Keyed by public-key hex: SS58 encoding is costly, so only the miners kept are encoded.
  const uidOf = new Map<string, number>();
  uidKeys.forEach((key, uid) => {
    const value = values.get(key);
    if (value === null || value === undefined) {
      throw new StorageDecodeError(origin(key), "AccountId32", `no hotkey for uid ${uid} although SubnetworkN is ${registeredNeurons}`);
    }
    uidOf.set(u8aToHex(decodeAccountIdBytes(value, origin(key))), uid);
  });

  const whitelisted = new Set<string>([...input.validatorWhitelist].map((ss58) => u8aToHex(accountIdBytes(ss58))));
  const mc1 = phaseWindow(window, "MinerCommit1");
  const mc2 = phaseWindow(window, "MinerCommit2");
  const activeMiners: ActiveMiner[] = [];
  for (const key of commitmentKeys) {
    const value = values.get(key.toLowerCase());
    if (value === null || value === undefined) continue;
    let account: string;
    try {
      account = accountHexOfCommitmentKey(key, netuid);
    } catch (error) {
      throw new StorageDecodeError(origin(key), "CommitmentOf key", (error as Error).message);
    }
    const uid = uidOf.get(account);
    if (uid === undefined) continue; // deregistered: its last commitment outlives the registration
    if (whitelisted.has(account)) continue;
    const hotkey = ss58Of(account);
    const registration = decodeRegistration(value, origin(key));
    const inMc1 = registration.block >= mc1.start && registration.block <= mc1.end;
    const inMc2 = registration.block >= mc2.start && registration.block <= mc2.end;
    if (!inMc1 && !inMc2) continue;
    activeMiners.push({
      hotkey,
      uid,
      commitBlock: registration.block,
      commitPhase: inMc2 ? "MinerCommit2" : "MinerCommit1",
      payload: commitmentText(registration),
    });
  }
  activeMiners.sort((a, b) => a.uid - b.uid);

  return {
    netuid,
    index: window.index,
    length: window.length,
    firstBlock: window.firstBlock,
    lastBlock: window.lastBlock,
    readBlock,
    ...hashes,
    phases: window.phases,
    schedule: window.schedule,
    registeredNeurons,
    activeMiners,
  };
}
