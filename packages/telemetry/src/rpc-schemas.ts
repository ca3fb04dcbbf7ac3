import { z } from "zod";

/** zod schemas for the Substrate JSON-RPC replies telemetry reads. */
export const hexSchema = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "0x-prefixed even-length hex");
export const blockHashSchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x + 32-byte hex block hash");
export type BlockHash = z.infer<typeof blockHashSchema>;

const hexNumber = z
  .string()
  .regex(/^0x[0-9a-fA-F]+$/, "0x hex number")
  .transform((s) => Number.parseInt(s, 16));

export const headerSchema = z.object({
  parentHash: blockHashSchema,
  number: hexNumber,
  stateRoot: blockHashSchema,
  extrinsicsRoot: blockHashSchema,
  digest: z.object({ logs: z.array(hexSchema) }),
});
export type Header = z.infer<typeof headerSchema>;

export const storageValueSchema = hexSchema.nullable();
export const storageKeysSchema = z.array(hexSchema);

export const storageChangeSetsSchema = z.array(z.object({ block: blockHashSchema, changes: z.array(z.tuple([hexSchema, hexSchema.nullable()])) }));

export const runtimeVersionSchema = z.looseObject({
  specName: z.string(),
  implName: z.string(),
  specVersion: z.number().int(),
  implVersion: z.number().int(),
  transactionVersion: z.number().int(),
});
export type RuntimeVersion = z.infer<typeof runtimeVersionSchema>;

/** One JSON-RPC 2.0 reply: exactly one of result / error. */
export const jsonRpcResponseSchema = z.union([
  z.object({ jsonrpc: z.literal("2.0"), id: z.number().int(), result: z.unknown() }).refine((r) => "result" in r, "result missing"),
  z.object({
    jsonrpc: z.literal("2.0"),
    id: z.number().int().nullable(),
    error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }),
  }),
]);
export type JsonRpcResponse = z.infer<typeof jsonRpcResponseSchema>;

export interface JsonRpcRequest {
  jsonrpc: "2.0";
  id: number;
  method: string;
  params: unknown[];
}
