import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { blake2AsU8a, encodeAddress, xxhashAsU8a } from "@polkadot/util-crypto";
import { mulberry32 } from "@subnet-review/core";
import { WebSocketServer, type WebSocket } from "ws";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CONNITO_REPO_DEFAULT_PHASES } from "../src/schedule.ts";
import { compact, concat, encodeRegistration, hex, uint } from "./scale-encode.ts";

/**
 * A local stand-in for a Subtensor node: the real JSON-RPC methods over WebSocket and HTTP on 127.0.0.1, serving a
 * synthetic subnet whose storage lives under real keys with real SCALE values, across a schedule history, and the
 * real finney runtime metadata. Knobs cover latency, dropped sockets, HTTP 429, reorgs of unfinalized blocks and
 * malformed values.
 */

const PHASES = ["Distribute", "Train", "MinerCommit1", "MinerCommit2", "Submission", "Validate", "Merge", "ValidatorCommit1", "ValidatorCommit2"] as const;
type Phase = (typeof PHASES)[number];
export type FakePhases = Record<Phase, number>;

/** The subnet's CycleCfg defaults (sum 500): the schedule most fake histories start with. */
export const PHASES_500: FakePhases = CONNITO_REPO_DEFAULT_PHASES;
/** A 524-block split for tests: only Distribute 20 and Train 300 of the live 524-block schedule are known. */
export const PHASES_524: FakePhases = {
  Distribute: 20,
  Train: 300,
  MinerCommit1: 12,
  MinerCommit2: 12,
  Submission: 90,
  Validate: 10,
  Merge: 56,
  ValidatorCommit1: 12,
  ValidatorCommit2: 12,
};

const twox128 = (s: string) => xxhashAsU8a(new TextEncoder().encode(s), 128);
const KEYS_PREFIX = concat(twox128("SubtensorModule"), twox128("Keys"));
const N_PREFIX = concat(twox128("SubtensorModule"), twox128("SubnetworkN"));
const COMMIT_PREFIX = concat(twox128("Commitments"), twox128("CommitmentOf"));
const LAST_UPDATE_PREFIX = concat(twox128("SubtensorModule"), twox128("LastUpdate"));

export interface Timed<T> {
  block: number;
  value: T;
  /** Only on this branch (set by a reorg); undefined: on every branch. */
  branch?: number;
}

/** Latest entry at or before `block` visible on `branch` (entries are kept sorted by block). */
function latest<T>(entries: Timed<T>[] | undefined, block: number, branch: number): Timed<T> | undefined {
  if (!entries) return undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.block <= block && (e.branch === undefined || e.branch === branch)) return e;
  }
  return undefined;
}

function insertSorted<T>(list: Timed<T>[], entry: Timed<T>): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.block > entry.block) i--;
  list.splice(i, 0, entry);
}

export interface FakeSegment {
  fromBlock: number;
  phases: FakePhases;
}

/** One whole cycle of the fake's schedule, enumerated by the fake itself (not by the package under test). */
export interface FakeCycle {
  index: number;
  firstBlock: number;
  lastBlock: number;
  length: number;
  phases: FakePhases;
  segmentFrom: number;
}

/** What a miner does in a cycle; the test derives the expected counts from what these leave on the chain. */
export type Behaviour = "full" | "late1" | "lateMore" | "mOnly" | "oldVersion" | "textVersion" | "badJson" | "submissionOnly" | "outsideWindow" | "idle";
const BEHAVIOURS: [Behaviour, number][] = [
  ["full", 0.45],
  ["late1", 0.08],
  ["lateMore", 0.07],
  ["mOnly", 0.08],
  ["oldVersion", 0.05],
  ["textVersion", 0.04],
  ["badJson", 0.04],
  ["submissionOnly", 0.04],
  ["outsideWindow", 0.05],
  ["idle", 0.1],
];

export interface FakeChainSpec {
  netuid: number;
  /** Schedule history: each segment in force from its block until the next one's. */
  schedule: FakeSegment[];
  /** Whole cycles with a block in [fromBlock, toBlock] are filled with activity. */
  fromBlock: number;
  toBlock: number;
  neurons: number;
  /** uids 0..validators-1 are whitelisted; the first `staleValidators` of them never set weights (age > 448). */
  validators: number;
  staleValidators?: number;
  /** Miners replaced on their uid (after their MinerCommit1 commit) per cycle. */
  uidReusePerCycle?: number;
  seed: number;
  /** Head = last block of the last filled cycle + this; finalized = head - finalityLag. */
  blocksAfter?: number;
  finalityLag?: number;
}

const REFERENCE_METADATA = join(
  process.env.SHARED_DIR || fileURLToPath(new URL("../../../../shared", import.meta.url)),
  "reference/chain/finney_metadata_v16_spec393.scale",
);

export class FakeChain {
  readonly spec: Required<FakeChainSpec>;
  readonly cycles: FakeCycle[];
  head: number;
  finalized: number;
  /** Served by state_getMetadata: the real finney runtime metadata (v16, spec 393) unless a test swaps it. */
  metadataHex: string = hex(readFileSync(REFERENCE_METADATA));
  specVersion = 393;
  /** Runtime upgrades: from `fromBlock` on, blocks run `specVersion` with `metadataHex`. */
  readonly upgrades: { fromBlock: number; specVersion: number; metadataHex: string }[] = [];
  /** Branch of each block above the last reorg point (absent: branch 0). */
  private readonly branchFrom: { from: number; branch: number }[] = [];
  private nextBranch = 1;
  private readonly registrations = new Map<number, Timed<Uint8Array>[]>(); // uid → hotkey pubkeys
  private readonly lastUpdates = new Map<number, Timed<number>[]>(); // uid → block weights were last set
  private readonly commitments = new Map<string, Timed<string>[]>(); // commitment key → SCALE values (hex)
  /** pubkey hex → the commitment texts it made, by block: the scenario's own record for the test's expectations. */
  readonly commitLog = new Map<string, Timed<string>[]>();
  private readonly commitKeyOf = new Map<string, string>(); // pubkey hex → commitment key hex
  private readonly keysKeys: string[];
  private readonly uidOfKeysKey = new Map<string, number>();
  private readonly nKey: string;
  private readonly lastUpdateKey: string;
  private readonly malformed = new Map<string, { fromBlock: number; toBlock: number; value: string }>();
  readonly whitelist: string[] = [];
  /** Per cycle first block: what each miner was made to do (ss58 → behaviour), and the hotkeys replaced on their
   * uid inside MinerCommit2 with the hotkeys that replaced them. */
  readonly behaviours = new Map<number, Map<string, Behaviour>>();
  readonly replaced = new Map<number, { old: string; new: string }[]>();
  private hotkeyCounter = 0;

  constructor(spec: FakeChainSpec) {
    this.spec = { blocksAfter: 0, finalityLag: 0, staleValidators: 0, uidReusePerCycle: 1, ...spec };
    this.cycles = FakeChain.wholeCycles(spec.schedule, spec.fromBlock, spec.toBlock);
    if (this.cycles.length === 0) throw new Error("the fake chain's range holds no whole cycle");
    this.head = this.cycles.at(-1)!.lastBlock + this.spec.blocksAfter;
    this.finalized = this.head - this.spec.finalityLag;
    const netuidLe = uint(spec.netuid, 2);
    this.nKey = hex(concat(N_PREFIX, netuidLe));
    this.lastUpdateKey = hex(concat(LAST_UPDATE_PREFIX, netuidLe));
    this.keysKeys = Array.from({ length: spec.neurons }, (_, uid) => hex(concat(KEYS_PREFIX, netuidLe, uint(uid, 2))));
    this.keysKeys.forEach((key, uid) => this.uidOfKeysKey.set(key, uid));
    const registeredAt = Math.max(0, this.cycles[0]!.firstBlock - 1000);
    for (let uid = 0; uid < spec.neurons; uid++) {
      const pubkey = this.newHotkey();
      this.registrations.set(uid, [{ block: registeredAt, value: pubkey }]);
      this.lastUpdates.set(uid, [{ block: registeredAt, value: registeredAt }]);
      if (uid < spec.validators) this.whitelist.push(encodeAddress(pubkey, 42));
    }
    const random = mulberry32(spec.seed); // a seed gives the same chain
    for (const cycle of this.cycles) this.generateCycle(cycle, random);
  }

  /** Whole cycles (index = block // length) of each segment that have a block in [from, to], oldest first. */
  static wholeCycles(schedule: FakeSegment[], from: number, to: number): FakeCycle[] {
    const cycles: FakeCycle[] = [];
    schedule.forEach((segment, i) => {
      const length = PHASES.reduce((n, p) => n + segment.phases[p], 0);
      const until = schedule[i + 1]?.fromBlock ?? Number.POSITIVE_INFINITY;
      for (let index = Math.floor(from / length); index * length <= to; index++) {
        const firstBlock = index * length;
        const lastBlock = firstBlock + length - 1;
        if (firstBlock >= segment.fromBlock && lastBlock < until && lastBlock >= from) {
          cycles.push({ index, firstBlock, lastBlock, length, phases: segment.phases, segmentFrom: segment.fromBlock });
        }
      }
    });
    return cycles;
  }

  private newHotkey(): Uint8Array {
    const pubkey = blake2AsU8a(`fake-hotkey-${this.spec.seed}-${this.hotkeyCounter++}`, 256);
    this.commitKeyOf.set(hex(pubkey), hex(concat(COMMIT_PREFIX, uint(this.spec.netuid, 2), xxhashAsU8a(pubkey, 64), pubkey)));
    return pubkey;
  }

  /** Inclusive [start, end] of a phase in a cycle. */
  phaseRange(cycle: FakeCycle, phase: Phase): [number, number] {
    let start = cycle.firstBlock;
    for (const p of PHASES) {
      if (p === phase) return [start, start + cycle.phases[p] - 1];
      start += cycle.phases[p];
    }
    throw new Error(phase);
  }

  hotkeyAt(uid: number, block: number, branch = 0): Uint8Array | undefined {
    return latest(this.registrations.get(uid), block, branch)?.value;
  }

  /** uid holding `pubkey` at `block`, if registered. */
  uidOf(pubkey: Uint8Array, block: number, branch = 0): number | undefined {
    for (const uid of this.registrations.keys()) {
      const held = this.hotkeyAt(uid, block, branch);
      if (held && hex(held) === hex(pubkey)) return uid;
    }
    return undefined;
  }

  lastUpdateAt(uid: number, block: number): number {
    return latest(this.lastUpdates.get(uid), block, 0)?.value ?? 0;
  }

  commit(pubkey: Uint8Array, block: number, payload: string, branch?: number): void {
    const key = this.commitKeyOf.get(hex(pubkey))!;
    const value = hex(encodeRegistration(0n, block, [{ Raw: new TextEncoder().encode(payload) }]));
    const list = this.commitments.get(key) ?? [];
    insertSorted(list, { block, value, ...(branch === undefined ? {} : { branch }) });
    this.commitments.set(key, list);
    const log = this.commitLog.get(hex(pubkey)) ?? [];
    insertSorted(log, { block, value: payload, ...(branch === undefined ? {} : { branch }) });
    this.commitLog.set(hex(pubkey), log);
  }

  /** The text of `pubkey`'s latest commitment at `block` on branch 0, from the scenario's own log. */
  commitmentTextAt(pubkey: Uint8Array, block: number, branch = 0): Timed<string> | undefined {
    return latest(this.commitLog.get(hex(pubkey)), block, branch);
  }

  private generateCycle(cycle: FakeCycle, random: () => number): void {
    const pick = ([start, end]: [number, number]) => start + Math.floor(random() * (end - start + 1));
    const mc1 = this.phaseRange(cycle, "MinerCommit1");
    const mc2 = this.phaseRange(cycle, "MinerCommit2");
    const train = this.phaseRange(cycle, "Train");
    const vc2 = this.phaseRange(cycle, "ValidatorCommit2");
    const behaviours = new Map<string, Behaviour>();
    this.behaviours.set(cycle.firstBlock, behaviours);
    const { neurons, validators, staleValidators, uidReusePerCycle } = this.spec;
    const minerUids = neurons - validators;
    const reused = new Set(Array.from({ length: uidReusePerCycle }, () => validators + Math.floor(random() * minerUids)));
    const replaced: { old: string; new: string }[] = [];
    this.replaced.set(cycle.firstBlock, replaced);
    const submission = (uid: number, v: number | string) => {
      const h = hex(blake2AsU8a(`${cycle.firstBlock}-${uid}`, 256)).slice(2, 34);
      return JSON.stringify({ e: uid % 4, h, v, r: `m${uid}/x`, rv: h.slice(0, 7) });
    };
    const signed = (uid: number) => JSON.stringify({ m: hex(blake2AsU8a(`signed-${cycle.firstBlock}-${uid}`, 256)).slice(2) });
    const goodVersion = () => mc1[0] - Math.floor(random() * 2 * cycle.length);
    for (let uid = 0; uid < neurons; uid++) {
      const pubkey = this.hotkeyAt(uid, mc1[0])!;
      const ss58 = encodeAddress(pubkey, 42);
      if (uid < validators && uid >= staleValidators) {
        // A working validator: sets weights during MinerCommit1, commits a seed there and its model in ValidatorCommit2.
        const weightsAt = pick(mc1);
        insertSorted(this.lastUpdates.get(uid)!, { block: weightsAt, value: weightsAt });
        this.commit(pubkey, pick(mc1), JSON.stringify({ s: Math.floor(random() * 1e9) }));
        this.commit(pubkey, pick(vc2), JSON.stringify({ h: `v${cycle.firstBlock}`, v: mc1[0], e: 0, r: "owner/model", rv: "abcdef0" }));
        continue;
      }
      // A whitelisted hotkey whose weights are stale is a miner to the validators: it works like one.
      let behaviour: Behaviour = "full";
      if (uid >= validators) {
        let roll = random();
        behaviour = BEHAVIOURS.find(([, p]) => (roll -= p) < 0)?.[0] ?? "idle";
      }
      behaviours.set(ss58, behaviour);
      const inMc1 = pick(mc1);
      switch (behaviour) {
        case "full":
          this.commit(pubkey, inMc1, signed(uid));
          this.commit(pubkey, pick(mc2), submission(uid, goodVersion()));
          break;
        case "late1":
          this.commit(pubkey, inMc1, signed(uid));
          this.commit(pubkey, mc2[1] + 1, submission(uid, goodVersion()));
          break;
        case "lateMore":
          this.commit(pubkey, inMc1, signed(uid));
          this.commit(pubkey, mc2[1] + 2 + Math.floor(random() * 5), submission(uid, goodVersion()));
          break;
        case "mOnly":
          this.commit(pubkey, inMc1, signed(uid));
          break;
        case "oldVersion":
          this.commit(pubkey, inMc1, signed(uid));
          this.commit(pubkey, pick(mc2), submission(uid, mc1[0] - 3 * cycle.length - 1 - Math.floor(random() * 100)));
          break;
        case "textVersion":
          this.commit(pubkey, inMc1, signed(uid));
          this.commit(pubkey, pick(mc2), submission(uid, "1.0.3"));
          break;
        case "badJson":
          this.commit(pubkey, inMc1, signed(uid));
          this.commit(pubkey, pick(mc2), submission(uid, goodVersion()).slice(0, 30));
          break;
        case "submissionOnly":
          this.commit(pubkey, pick(mc2), submission(uid, goodVersion()));
          break;
        case "outsideWindow":
          this.commit(pubkey, pick(train), signed(uid));
          break;
        case "idle":
          break;
      }
      if (reused.has(uid) && behaviour !== "idle") {
        // Deregistered inside MinerCommit2; the uid's new hotkey commits a submission before the window closes.
        const at = mc2[0] + 1;
        const fresh = this.newHotkey();
        insertSorted(this.registrations.get(uid)!, { block: at, value: fresh });
        replaced.push({ old: ss58, new: encodeAddress(fresh, 42) });
        this.commit(fresh, at + 1 + Math.floor(random() * (mc2[1] - at - 1)), submission(uid, goodVersion()));
      }
    }
  }

  /** The runtime block n ran under. */
  runtimeAt(n: number): { specVersion: number; metadataHex: string } {
    const upgrade = this.upgrades.filter((u) => u.fromBlock <= n).at(-1);
    return upgrade ?? { specVersion: this.specVersion, metadataHex: this.metadataHex };
  }

  branchOf(n: number): number {
    let branch = 0;
    for (const f of this.branchFrom) if (n >= f.from) branch = f.branch;
    return branch;
  }

  private readonly knownHashes = new Map<string, { number: number; branch: number }>();

  /** Hash of block n on a branch; every hash handed out is remembered so later reads at it resolve. */
  hashOf(n: number, branch = this.branchOf(n)): string {
    const hash = hex(blake2AsU8a(`fake-block-${this.spec.seed}-${branch}-${n}`, 256));
    this.knownHashes.set(hash, { number: n, branch });
    return hash;
  }

  /** hash → block number and branch, for current and replaced blocks alike. */
  resolve(hash: string): { number: number; branch: number } | null {
    return this.knownHashes.get(hash.toLowerCase()) ?? null;
  }

  /** Replaces blocks from `from` (must be unfinalized) with a new branch; `mutate` adds branch-only events. */
  reorg(from: number, mutate?: (branch: number) => void, options: { unsafeBelowFinality?: boolean } = {}): number {
    // unsafeBelowFinality simulates a store written from a fork that later lost, to exercise the resume re-check.
    if (from <= this.finalized && !options.unsafeBelowFinality) throw new Error(`cannot reorg finalized block ${from} (finalized ${this.finalized})`);
    const branch = this.nextBranch++;
    this.branchFrom.push({ from, branch });
    mutate?.(branch);
    return branch;
  }

  /** Advance head and finality. */
  advance(blocks: number, finalizeAll = true): void {
    this.head += blocks;
    if (finalizeAll) this.finalized = this.head;
  }

  /** Serve `value` (raw hex) for `key` at blocks fromBlock..toBlock. */
  corrupt(key: string, fromBlock: number, toBlock: number, value: string): void {
    this.malformed.set(key.toLowerCase(), { fromBlock, toBlock, value });
  }

  commitmentKeyFor(ss58OrPubkey: Uint8Array): string {
    return this.commitKeyOf.get(hex(ss58OrPubkey))!;
  }

  storage(key: string, block: number, branch: number): string | null {
    const lower = key.toLowerCase();
    const bad = this.malformed.get(lower);
    if (bad && block >= bad.fromBlock && block <= bad.toBlock) return bad.value;
    if (lower === this.nKey) return hex(uint(this.spec.neurons, 2));
    if (lower === this.lastUpdateKey) {
      const blocks = Array.from({ length: this.spec.neurons }, (_, uid) => uint(latest(this.lastUpdates.get(uid), block, branch)?.value ?? 0, 8));
      return hex(concat(compact(this.spec.neurons), ...blocks));
    }
    const uid = this.uidOfKeysKey.get(lower);
    if (uid !== undefined) {
      const pubkey = this.hotkeyAt(uid, block, branch);
      return pubkey ? hex(pubkey) : null;
    }
    const entry = latest(this.commitments.get(lower), block, branch);
    return entry ? entry.value : null;
  }

  keys(prefix: string, block: number, branch: number): string[] {
    const lower = prefix.toLowerCase();
    const all = [this.nKey, this.lastUpdateKey, ...this.keysKeys];
    for (const [key, list] of this.commitments) if (latest(list, block, branch)) all.push(key);
    return all.filter((k) => k.startsWith(lower)).sort();
  }
}

export interface FakeNodeKnobs {
  latencyMs: number;
  /** Drop the WebSocket after this many more calls (null: never). */
  dropAfterCalls: number | null;
  /** Answer this many more HTTP requests with 429. */
  tooManyRequests: number;
  /** Reverse the order of batch replies, so clients must match by id. */
  reverseBatches: boolean;
}

export class FakeNode {
  readonly knobs: FakeNodeKnobs = { latencyMs: 0, dropAfterCalls: null, tooManyRequests: 0, reverseBatches: true };
  calls = 0;
  requests = 0;
  drops = 0;
  rejected429 = 0;
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;
  private port = 0;

  constructor(readonly chain: FakeChain) {}

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }
  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => void this.onHttp(req, res));
    const wss = new WebSocketServer({ server });
    wss.on("connection", (ws) => ws.on("message", (data) => void this.onWsMessage(ws, data.toString())));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.wss = wss;
    return this;
  }

  async stop(): Promise<void> {
    const { server, wss } = this;
    this.server = null;
    this.wss = null;
    if (!server) return;
    // Stop accepting first, so a client reconnecting meanwhile cannot keep the server open.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const client of wss?.clients ?? []) client.terminate();
    server.closeAllConnections();
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    await closed;
  }

  private async delay(): Promise<void> {
    if (this.knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, this.knobs.latencyMs));
  }

  private async onWsMessage(ws: WebSocket, text: string): Promise<void> {
    this.requests++;
    const body = JSON.parse(text) as unknown;
    const batch = Array.isArray(body) ? body : [body];
    if (this.knobs.dropAfterCalls !== null) {
      this.knobs.dropAfterCalls -= batch.length;
      if (this.knobs.dropAfterCalls < 0) {
        this.knobs.dropAfterCalls = null;
        this.drops++;
        ws.terminate();
        return;
      }
    }
    await this.delay();
    const replies = this.answer(batch);
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(Array.isArray(body) ? replies : replies[0]));
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.requests++;
    await this.delay();
    if (this.knobs.tooManyRequests > 0) {
      this.knobs.tooManyRequests--;
      this.rejected429++;
      res.writeHead(429, { "retry-after": "0", "content-type": "text/plain" }).end("Too Many Requests");
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString()) as unknown;
    const replies = this.answer(Array.isArray(body) ? body : [body]);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Array.isArray(body) ? replies : replies[0]));
  }

  private at(hash: unknown): { number: number; branch: number } {
    if (hash === null || hash === undefined) return { number: this.chain.head, branch: this.chain.branchOf(this.chain.head) };
    const found = this.chain.resolve(String(hash));
    if (!found) throw Object.assign(new Error(`Client error: UnknownBlock: header not found for ${String(hash)}`), { code: 4003 });
    return found;
  }

  private answer(batch: unknown[]): unknown[] {
    const replies = batch.map((raw) => {
      const { id, method, params = [] } = raw as { id: number; method: string; params?: unknown[] };
      this.calls++;
      try {
        return { jsonrpc: "2.0", id, result: this.dispatch(method, params) };
      } catch (error) {
        const code = (error as { code?: number }).code ?? -32000;
        return { jsonrpc: "2.0", id, error: { code, message: (error as Error).message } };
      }
    });
    return this.knobs.reverseBatches ? replies.reverse() : replies;
  }

  private dispatch(method: string, params: unknown[]): unknown {
    const chain = this.chain;
    switch (method) {
      case "chain_getFinalizedHead":
        return chain.hashOf(chain.finalized);
      case "chain_getBlockHash": {
        const n = Number(params[0] ?? chain.head);
        return n <= chain.head ? chain.hashOf(n) : null;
      }
      case "chain_getHeader": {
        const { number, branch } = this.at(params[0]);
        return {
          parentHash: number === 0 ? hex(new Uint8Array(32)) : chain.hashOf(number - 1, chain.branchOf(number - 1)),
          number: `0x${number.toString(16)}`,
          stateRoot: hex(blake2AsU8a(`state-${branch}-${number}`, 256)),
          extrinsicsRoot: hex(blake2AsU8a(`ext-${branch}-${number}`, 256)),
          digest: { logs: [] },
        };
      }
      case "state_getStorage": {
        const { number, branch } = this.at(params[1]);
        return chain.storage(String(params[0]), number, branch);
      }
      case "state_getKeysPaged": {
        const [prefix, count, startKey, hash] = params as [string, number, string | null, string | undefined];
        const { number, branch } = this.at(hash);
        const keys = chain.keys(prefix, number, branch);
        const start = startKey ? keys.findIndex((k) => k > startKey.toLowerCase()) : 0;
        return start < 0 ? [] : keys.slice(start, start + count);
      }
      case "state_queryStorageAt": {
        const [keys, hash] = params as [string[], string];
        const { number, branch } = this.at(hash);
        return [{ block: hash ?? chain.hashOf(number), changes: keys.map((k) => [k, chain.storage(k, number, branch)]) }];
      }
      case "state_getRuntimeVersion": {
        const { specVersion } = chain.runtimeAt(this.at(params[0]).number);
        return {
          specName: "node-subtensor",
          implName: "node-subtensor",
          authoringVersion: 1,
          specVersion,
          implVersion: 1,
          apis: [],
          transactionVersion: 1,
          stateVersion: 1,
        };
      }
      case "state_getMetadata":
        return chain.runtimeAt(this.at(params[0]).number).metadataHex;
      default:
        throw Object.assign(new Error(`Method not found: ${method}`), { code: -32601 });
    }
  }
}
