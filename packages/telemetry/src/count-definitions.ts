import { z } from "zod";
import type { CycleMiner } from "./store.ts";

export type { CycleMiner };

/**
 * The names and wording of the two per-cycle miner counts, stored by name with each cycle, and how a stored hotkey
 * row reads back. Only zod is imported: the api reads this (via "@subnet-review/telemetry/definitions") without
 * loading the chain client.
 */
export const COMMITTED = "committed-in-miner-commit-windows";
export const ACCEPTED = "accepted-by-validator-rules";
export type CountDefinition = typeof COMMITTED | typeof ACCEPTED;

export const COUNT_DEFINITIONS: Record<CountDefinition, string> = {
  [COMMITTED]:
    "the published review's wording: distinct hotkeys registered at MinerCommit2's last block, not validators, whose commitment (as of that block) was made inside MinerCommit1 or MinerCommit2",
  [ACCEPTED]:
    'what Connito validators accept (build_chain_checkpoints_from_previous_phase): a {"m"} commitment at MinerCommit1 end + 1 and a submission with "h", "v", "e" at MinerCommit2 end + 1, registered at both blocks, not a validator, "v" within 3 cycles before MinerCommit1 starts',
};

/** Payload kinds of a cycle's hotkey rows. */
export const PAYLOAD_KINDS = ["signed-hash", "submission", "other-json", "not-json", "not-text", "none"] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];

const commitPhaseSchema = z.enum(["MinerCommit1", "MinerCommit2"]).nullable();
const payloadKindSchema = z.enum(PAYLOAD_KINDS);

/** A cycle's hotkey row as the database returns it (enum columns as text). */
export type StoredMinerRow = Omit<CycleMiner, "commitPhase" | "payloadKind"> & { commitPhase: string | null; payloadKind: string };

/** A stored hotkey row back as a CycleMiner, its enum columns checked (the store and the api read rows alike). */
export function cycleMinerFromRow(m: StoredMinerRow): CycleMiner {
  return {
    hotkey: m.hotkey,
    uid: m.uid,
    commitBlock: m.commitBlock,
    commitPhase: commitPhaseSchema.parse(m.commitPhase),
    payloadKind: payloadKindSchema.parse(m.payloadKind),
    payload: m.payload,
    submissionBlock: m.submissionBlock,
    committed: m.committed,
    accepted: m.accepted,
    rejection: m.rejection,
  };
}
