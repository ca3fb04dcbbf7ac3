/**
 * The names and wording of the two per-cycle miner counts, stored by name with each cycle. No imports: the api
 * reads this (via "@subnet-review/telemetry/definitions") without loading the chain client.
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
