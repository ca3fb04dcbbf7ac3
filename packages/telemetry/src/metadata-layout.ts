import { Metadata, TypeRegistry } from "@polkadot/types";
import type { SubstrateRpc } from "./rpc-client.ts";
import { COMMITMENT_DATA_VARIANTS } from "./scale.ts";
import { hexSchema, type BlockHash, type RuntimeVersion } from "./rpc-schemas.ts";

/**
 * The storage layouts telemetry decodes, written as the shape its decoders assume. At start the chain's own metadata
 * is read and each entry compared: a runtime upgrade that renames an item, changes a hasher or a value type would
 * otherwise be misread silently, so it stops the ingest before anything is written.
 */
export interface StorageLayout {
  pallet: string;
  item: string;
  hashers: string[];
  key: string;
  value: string;
}

const dataEnum = `enum{${Object.entries(COMMITMENT_DATA_VARIANTS)
  .map(
    ([name, type], index) =>
      `${index}:${name}(${type === "Null" ? "" : type === "Bytes" ? "Vec<u8>" : type === "CommitmentTimelock" ? "{encrypted:Vec<u8>,reveal_round:u64}" : type.replace(/^\[u8;(\d+)\]$/, "[u8;$1]")})`,
  )
  .join(",")}}`;

export const DECODED_LAYOUTS: readonly StorageLayout[] = [
  { pallet: "SubtensorModule", item: "SubnetworkN", hashers: ["Identity"], key: "u16", value: "u16" },
  { pallet: "SubtensorModule", item: "Keys", hashers: ["Identity", "Identity"], key: "(u16,u16)", value: "[u8;32]" },
  { pallet: "SubtensorModule", item: "LastUpdate", hashers: ["Identity"], key: "u16", value: "Vec<u64>" },
  {
    pallet: "Commitments",
    item: "CommitmentOf",
    hashers: ["Identity", "Twox64Concat"],
    key: "(u16,[u8;32])",
    value: `{deposit:u64,block:u32,info:{fields:Vec<${dataEnum}>}}`,
  },
];

type Lookup = TypeRegistry["lookup"];

/** A type's structure with names of wrappers dropped: newtypes (one unnamed field) unwrap to their content. */
function shapeOf(lookup: Lookup, id: number, depth = 0): string {
  if (depth > 12) return "…";
  const def = lookup.getSiType(id).def;
  if (def.isPrimitive) return def.asPrimitive.type.toLowerCase();
  if (def.isCompact) return `Compact<${shapeOf(lookup, def.asCompact.type.toNumber(), depth + 1)}>`;
  if (def.isSequence) return `Vec<${shapeOf(lookup, def.asSequence.type.toNumber(), depth + 1)}>`;
  if (def.isArray) return `[${shapeOf(lookup, def.asArray.type.toNumber(), depth + 1)};${def.asArray.len.toNumber()}]`;
  if (def.isTuple) return `(${def.asTuple.map((t) => shapeOf(lookup, t.toNumber(), depth + 1)).join(",")})`;
  if (def.isComposite) {
    const fields = def.asComposite.fields;
    if (fields.length === 1 && fields[0]!.name.isNone) return shapeOf(lookup, fields[0]!.type.toNumber(), depth + 1);
    if (fields.every((f) => f.name.isNone)) return `(${fields.map((f) => shapeOf(lookup, f.type.toNumber(), depth + 1)).join(",")})`;
    return `{${fields.map((f) => `${f.name.unwrap().toString()}:${shapeOf(lookup, f.type.toNumber(), depth + 1)}`).join(",")}}`;
  }
  if (def.isVariant) {
    const variants = [...def.asVariant.variants].sort((a, b) => a.index.toNumber() - b.index.toNumber());
    return `enum{${variants
      .map((v) => {
        const fields = v.fields;
        const inner =
          fields.length === 0
            ? ""
            : fields.length === 1 && fields[0]!.name.isNone
              ? shapeOf(lookup, fields[0]!.type.toNumber(), depth + 1)
              : fields.every((f) => f.name.isNone)
                ? fields.map((f) => shapeOf(lookup, f.type.toNumber(), depth + 1)).join(",")
                : `{${fields.map((f) => `${f.name.unwrap().toString()}:${shapeOf(lookup, f.type.toNumber(), depth + 1)}`).join(",")}}`;
        return `${v.index.toNumber()}:${v.name.toString()}(${inner})`;
      })
      .join(",")}}`;
  }
  return def.type;
}

/** The layouts of `wanted` as the metadata declares them; a missing pallet or item has null. */
export function layoutsInMetadata(metadataBytes: Uint8Array, wanted: readonly StorageLayout[] = DECODED_LAYOUTS): (StorageLayout | null)[] {
  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, metadataBytes);
  registry.setMetadata(metadata);
  const pallets = metadata.asLatest.pallets;
  return wanted.map(({ pallet, item }) => {
    const p = pallets.find((x) => x.name.toString() === pallet);
    const entry = p?.storage.isSome ? p.storage.unwrap().items.find((x) => x.name.toString() === item) : undefined;
    if (!entry) return null;
    if (entry.type.isPlain) return { pallet, item, hashers: [], key: "", value: shapeOf(registry.lookup, entry.type.asPlain.toNumber()) };
    const map = entry.type.asMap;
    return {
      pallet,
      item,
      hashers: map.hashers.map((h) => h.toString()),
      key: shapeOf(registry.lookup, map.key.toNumber()),
      value: shapeOf(registry.lookup, map.value.toNumber()),
    };
  });
}

export class MetadataLayoutError extends Error {
  constructor(
    readonly specVersion: number,
    readonly differences: string[],
  ) {
    super(`runtime spec version ${specVersion} changed storage telemetry decodes; refusing to read it: ${differences.join("; ")}`);
    this.name = "MetadataLayoutError";
  }
}

/** What differs between the layouts the decoders assume and those in `metadataBytes`; empty when all match. */
export function layoutDifferences(metadataBytes: Uint8Array): string[] {
  const found = layoutsInMetadata(metadataBytes);
  const differences: string[] = [];
  DECODED_LAYOUTS.forEach((want, i) => {
    const got = found[i];
    const name = `${want.pallet}.${want.item}`;
    if (!got) return void differences.push(`${name} is missing`);
    if (got.hashers.join() !== want.hashers.join())
      differences.push(`${name} hashers are ${got.hashers.join(", ") || "none (plain)"}, expected ${want.hashers.join(", ")}`);
    if (got.key !== want.key) differences.push(`${name} key is ${got.key || "none"}, expected ${want.key}`);
    if (got.value !== want.value) differences.push(`${name} value is ${got.value.slice(0, 160)}, expected ${want.value.slice(0, 160)}`);
  });
  return differences;
}

/**
 * Reads the runtime version and metadata at `at` and throws MetadataLayoutError naming the spec version when a
 * storage entry telemetry decodes differs from what its decoders assume. Returns the spec version checked.
 */
export async function checkStorageLayouts(rpc: SubstrateRpc, at: BlockHash, known?: RuntimeVersion): Promise<{ specVersion: number; specName: string }> {
  const version = known ?? (await rpc.runtimeVersion(at));
  const metadataHex = await rpc.call("state_getMetadata", [at], hexSchema);
  const differences = layoutDifferences(Buffer.from(metadataHex.slice(2), "hex"));
  if (differences.length > 0) throw new MetadataLayoutError(version.specVersion, differences);
  return { specVersion: version.specVersion, specName: version.specName };
}
