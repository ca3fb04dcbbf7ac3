import { encodeAddress } from "@polkadot/util-crypto";
import { u8aToHex } from "@polkadot/util";
import { allowedVersions, MAX_WEIGHT_AGE_BLOCKS, payloadKind, signedHashOf, submissionOf } from "./commit-rules.ts";
import { boundedMemo } from "./memo.ts";
import { call, type RpcStats, type SubstrateRpc } from "./rpc-client.ts";
import { runtimeVersionSchema, storageKeysSchema as keyList, storageValueSchema as storageValue, type BlockHash, type RuntimeVersion } from "./rpc-schemas.ts";
import {
  commitmentText,
  decodeAccountIdBytes,
  decodeRegistration,
  decodeU16,
  decodeVecU64,
  SS58_PREFIX,
  StorageDecodeError,
  type Registration,
} from "./scale.ts";
import { phaseWindow, type CycleWindow } from "./schedule.ts";
import { ACCEPTED, COMMITTED, type CycleBlockHashes, type CycleMiner, type CycleRecord } from "./store.ts";
import { accountFromCommitmentKey, accountIdBytes, commitmentOfPrefix, keysKey, lastUpdateKey, subnetworkNKey } from "./storage-keys.ts";

const ss58Of = boundedMemo((pubkeyHex) => encodeAddress(pubkeyHex as `0x${string}`, SS58_PREFIX));
const accountHexOfCommitmentKey = (() => {
  const byNetuid = new Map<number, (key: string) => string>();
  return (key: string, netuid: number) => {
    let memo = byNetuid.get(netuid);
    if (!memo) byNetuid.set(netuid, (memo = boundedMemo((k) => u8aToHex(accountFromCommitmentKey(k, netuid)))));
    return memo(key.toLowerCase());
  };
})();

/** Block numbers a cycle reads: its bounds, MinerCommit1 end + 1, MinerCommit2's last block and MinerCommit2 end + 1. */
export function cycleBlocks(window: CycleWindow): {
  firstBlock: number;
  lastBlock: number;
  commitReadBlock: number;
  windowEndBlock: number;
  readBlock: number;
} {
  const mc1 = phaseWindow(window, "MinerCommit1");
  const mc2 = phaseWindow(window, "MinerCommit2");
  return { firstBlock: window.firstBlock, lastBlock: window.lastBlock, commitReadBlock: mc1.end + 1, windowEndBlock: mc2.end, readBlock: mc2.end + 1 };
}

export interface ReadCycleInput {
  netuid: number;
  window: CycleWindow;
  hashes: CycleBlockHashes;
  /** SS58 hotkeys of the owner's validator whitelist: validators when their weights are fresh too. */
  validatorWhitelist: ReadonlySet<string>;
  /** Counts this cycle's requests and calls. */
  meter?: RpcStats;
  /** Called with the runtime version at the submission read; throws to refuse a runtime whose layouts changed. */
  checkRuntime?: (version: RuntimeVersion, at: BlockHash) => Promise<void>;
}

/** Registrations and commitments of the subnet at one block, keyed by public-key hex. */
interface StateAt {
  block: number;
  hash: BlockHash;
  neurons: number;
  uidOf: Map<string, number>;
  commitments: Map<string, Registration>;
}

/**
 * Reads one cycle in two batches after the block hashes: SubnetworkN and the CommitmentOf keys at the three read
 * blocks (+ LastUpdate and the runtime version), then Keys(0..N-1) and every CommitmentOf value at each, in ~50-key queryStorageAt chunks.
 * Counts it both ways (COUNT_DEFINITIONS) and records why each hotkey looked at is or is not accepted.
 */
export async function readCycle(rpc: SubstrateRpc, input: ReadCycleInput): Promise<Omit<CycleRecord, "rpcRequests" | "rpcCalls">> {
  const { netuid, window, hashes, meter } = input;
  const blocks = cycleBlocks(window);
  const reads = [
    { block: blocks.commitReadBlock, hash: hashes.commitReadHash as BlockHash },
    { block: blocks.windowEndBlock, hash: hashes.windowEndHash as BlockHash },
    { block: blocks.readBlock, hash: hashes.readBlockHash as BlockHash },
  ];
  const nKey = subnetworkNKey(netuid);
  const prefix = commitmentOfPrefix(netuid);
  const luKey = lastUpdateKey(netuid);
  const pageSize = 1000;
  const first = await rpc.batch(
    [
      ...reads.flatMap(({ hash }) => [
        call("state_getStorage", [nKey, hash], storageValue),
        call("state_getKeysPaged", [prefix, pageSize, null, hash], keyList),
      ]),
      call("state_getStorage", [luKey, reads[2]!.hash], storageValue),
      call("state_getRuntimeVersion", [reads[2]!.hash], runtimeVersionSchema),
    ],
    meter,
  );
  // The runtime these blocks ran under: a spec version not checked yet has its storage layouts checked before decoding.
  await input.checkRuntime?.(first[7] as RuntimeVersion, reads[2]!.hash);
  const keysAt: string[][] = [];
  for (const [i, read] of reads.entries()) {
    const keys = [...(first[i * 2 + 1] as string[])];
    while (keys.length > 0 && keys.length % pageSize === 0) {
      const page = await rpc.keysPaged(prefix, pageSize, keys.at(-1)!, read.hash, meter);
      keys.push(...page);
      if (page.length < pageSize) break;
    }
    keysAt.push(keys);
  }
  const origin = (key: string, read: { block: number; hash: string }) => ({ key, blockHash: read.hash, blockNumber: read.block });
  const neuronsAt = reads.map((read, i) => {
    const value = first[i * 2] as string | null;
    return value === null ? 0 : decodeU16(value, origin(nKey, read));
  });
  const uidKeysAt = neuronsAt.map((n) => Array.from({ length: n }, (_, uid) => keysKey(netuid, uid)));
  const values = await rpc.queryStorageAtMany(
    reads.map((read, i) => ({ keys: [...uidKeysAt[i]!, ...keysAt[i]!], at: read.hash })),
    meter,
  );

  const states: StateAt[] = reads.map((read, i) => {
    const uidOf = new Map<string, number>();
    uidKeysAt[i]!.forEach((key, uid) => {
      const value = values[i]!.get(key);
      if (value === null || value === undefined) {
        throw new StorageDecodeError(origin(key, read), "AccountId32", `no hotkey for uid ${uid} although SubnetworkN is ${neuronsAt[i]}`);
      }
      uidOf.set(u8aToHex(decodeAccountIdBytes(value, origin(key, read))), uid);
    });
    const commitments = new Map<string, Registration>();
    for (const key of keysAt[i]!) {
      const value = values[i]!.get(key.toLowerCase());
      if (value === null || value === undefined) continue;
      let account: string;
      try {
        account = accountHexOfCommitmentKey(key, netuid);
      } catch (error) {
        throw new StorageDecodeError(origin(key, read), "CommitmentOf key", (error as Error).message);
      }
      // A deregistered hotkey's last commitment outlives its registration; it is not decoded.
      if (!uidOf.has(account)) continue;
      commitments.set(account, decodeRegistration(value, origin(key, read)));
    }
    return { ...read, neurons: neuronsAt[i]!, uidOf, commitments };
  });
  const [atCommitRead, atWindowEnd, atRead] = states as [StateAt, StateAt, StateAt];
  const lastUpdateValue = first[6] as string | null;
  const lastUpdate = lastUpdateValue === null ? [] : decodeVecU64(lastUpdateValue, origin(luKey, atRead));

  const mc1 = phaseWindow(window, "MinerCommit1");
  const mc2 = phaseWindow(window, "MinerCommit2");
  const versions = allowedVersions(mc1.start, window.length);
  const whitelisted = new Set<string>([...input.validatorWhitelist].map((ss58) => u8aToHex(accountIdBytes(ss58))));
  /** get_chain_commits' role gate at the submission read: whitelisted and weights at most 448 blocks old. */
  const validatorAge = (account: string): number | null => {
    if (!whitelisted.has(account)) return null;
    const uid = atRead.uidOf.get(account);
    const updated = uid === undefined ? undefined : lastUpdate[uid];
    if (updated === undefined) return null;
    const age = atRead.block - Number(updated);
    return age <= MAX_WEIGHT_AGE_BLOCKS ? age : null;
  };

  // Every hotkey with a commitment is judged (the validators' rule does not look at commitment blocks); rows are
  // kept for those counted either way or whose commitment changed during this cycle.
  const touched = new Set<string>();
  const accounts = new Set<string>();
  for (const state of states) {
    for (const [account, registration] of state.commitments) {
      accounts.add(account);
      if (registration.block >= window.firstBlock) touched.add(account);
    }
  }
  const miners: CycleMiner[] = [];
  for (const account of accounts) {
    const uid = atWindowEnd.uidOf.get(account) ?? atRead.uidOf.get(account) ?? atCommitRead.uidOf.get(account)!;
    const inWindow = atWindowEnd.commitments.get(account);
    const submitted = atRead.commitments.get(account);
    const signed = atCommitRead.commitments.get(account);
    const age = validatorAge(account);
    const inMc1 = inWindow !== undefined && inWindow.block >= mc1.start && inWindow.block <= mc1.end;
    const inMc2 = inWindow !== undefined && inWindow.block >= mc2.start && inWindow.block <= mc2.end;
    const committed = age === null && atWindowEnd.uidOf.has(account) && (inMc1 || inMc2);
    const text = inWindow ? commitmentText(inWindow) : null;
    const rejection = acceptance({
      age,
      signed,
      submitted,
      registeredAtCommitRead: atCommitRead.uidOf.has(account),
      registeredAtRead: atRead.uidOf.has(account),
      versions,
      blocks,
    });
    if (!committed && rejection !== null && !touched.has(account)) continue;
    miners.push({
      hotkey: ss58Of(account),
      uid,
      commitBlock: inWindow?.block ?? null,
      commitPhase: inMc2 ? "MinerCommit2" : inMc1 ? "MinerCommit1" : null,
      payloadKind: payloadKind(inWindow !== undefined, text),
      payload: text,
      submissionBlock: submitted?.block ?? null,
      committed,
      accepted: rejection === null,
      rejection,
    });
  }
  miners.sort((a, b) => a.uid - b.uid || a.hotkey.localeCompare(b.hotkey));

  return {
    netuid,
    index: window.index,
    length: window.length,
    firstBlock: window.firstBlock,
    lastBlock: window.lastBlock,
    scheduleKey: window.scheduleKey,
    commitReadBlock: blocks.commitReadBlock,
    windowEndBlock: blocks.windowEndBlock,
    readBlock: blocks.readBlock,
    ...hashes,
    phases: window.phases,
    schedule: window.schedule,
    registeredNeurons: atRead.neurons,
    committed: { definition: COMMITTED, count: miners.filter((m) => m.committed).length },
    accepted: { definition: ACCEPTED, count: miners.filter((m) => m.accepted).length },
    miners,
  };
}

/** Why the validators' rule does not accept a hotkey this cycle, or null when it does. */
function acceptance(x: {
  age: number | null;
  signed: Registration | undefined;
  submitted: Registration | undefined;
  registeredAtCommitRead: boolean;
  registeredAtRead: boolean;
  versions: { min: number; max: number };
  blocks: { commitReadBlock: number; readBlock: number };
}): string | null {
  const { blocks } = x;
  if (x.age !== null) return `validator: whitelisted, weights ${x.age} blocks old (at most ${MAX_WEIGHT_AGE_BLOCKS})`;
  if (!x.registeredAtCommitRead) return `not registered at #${blocks.commitReadBlock} (MinerCommit1 end + 1)`;
  if (!x.registeredAtRead) return `not registered at #${blocks.readBlock} (MinerCommit2 end + 1)`;
  if (!x.signed) return `no commitment at #${blocks.commitReadBlock}`;
  const signed = signedHashOf(commitmentText(x.signed));
  if (!signed.ok) return `commitment at #${blocks.commitReadBlock} (from #${x.signed.block}): ${signed.why}`;
  if (!x.submitted) return `no commitment at #${blocks.readBlock}`;
  const submission = submissionOf(commitmentText(x.submitted));
  if (!submission.ok) return `commitment at #${blocks.readBlock} (from #${x.submitted.block}) is not a submission: ${submission.why}`;
  const v = submission.value.version;
  if (v < x.versions.min || v > x.versions.max) return `version ${v} outside ${x.versions.min}–${x.versions.max}`;
  return null;
}
