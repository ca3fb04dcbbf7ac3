import type { DisplayKind } from "../lib/kind";

export function KindBadge({ kind }: { kind: DisplayKind }) {
  return <span className={`kind kind-${kind}`}>{kind}</span>;
}
