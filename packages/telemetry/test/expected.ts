import { hexToU8a } from "@polkadot/util";
import { encodeAddress } from "@polkadot/util-crypto";
import type { FakeChain, FakeCycle } from "./fake-node.ts";

/**
 * The two counts of a fake cycle, worked out from the scenario's own record (registrations, weight updates and the
 * commitment texts it wrote), not from the package's reader: committed = registered at MinerCommit2's last block,
 * not a validator, with some commitment made inside MinerCommit1..MinerCommit2; accepted = the Connito validators'
 * rule at MinerCommit1 end + 1 and MinerCommit2 end + 1.
 */
export function expectedMiners(chain: FakeChain, cycle: FakeCycle): { committed: Set<string>; accepted: Set<string> } {
  const mc1 = chain.phaseRange(cycle, "MinerCommit1");
  const mc2 = chain.phaseRange(cycle, "MinerCommit2");
  const commitRead = mc1[1] + 1;
  const windowEnd = mc2[1];
  const read = mc2[1] + 1;
  const whitelist = new Set(chain.whitelist);
  const committed = new Set<string>();
  const accepted = new Set<string>();
  const json = (text: string | undefined): Record<string, unknown> | null => {
    try {
      const v = JSON.parse(text ?? "") as unknown;
      return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };
  for (const [pubkeyHex, log] of chain.commitLog) {
    const pubkey = hexToU8a(pubkeyHex);
    const ss58 = encodeAddress(pubkey, 42);
    const uidAtRead = chain.uidOf(pubkey, read);
    const validator = whitelist.has(ss58) && uidAtRead !== undefined && read - chain.lastUpdateAt(uidAtRead, read) <= 448;
    if (validator) continue;
    if (
      chain.uidOf(pubkey, windowEnd) !== undefined &&
      log.some((e) => (e.branch === undefined || e.branch === chain.branchOf(windowEnd)) && e.block >= mc1[0] && e.block <= windowEnd)
    )
      committed.add(ss58);
    if (chain.uidOf(pubkey, commitRead) === undefined || uidAtRead === undefined) continue;
    const signed = json(chain.commitmentTextAt(pubkey, commitRead, chain.branchOf(commitRead))?.value);
    const submission = json(chain.commitmentTextAt(pubkey, read, chain.branchOf(read))?.value);
    if (typeof signed?.m !== "string" || signed.m === "" || !submission) continue;
    const { h, v, e } = submission;
    if (typeof h !== "string" || typeof e !== "number" || typeof v !== "number" || !Number.isInteger(v)) continue;
    if (v >= mc1[0] - 3 * cycle.length && v <= mc1[0]) accepted.add(ss58);
  }
  return { committed, accepted };
}
