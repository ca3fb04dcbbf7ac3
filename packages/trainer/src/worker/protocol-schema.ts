// The worker protocol as JSON Schema, emitted from the zod schemas in messages.ts. worker/protocol.schema.json holds
// this output, committed (a test checks it is current), so the Python worker validates specs and messages against
// the same fields, limits and defaults. Rewrite it with `pnpm --filter @subnet-review/trainer protocol-schema`.
import { writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { evalWorkerMessageSchema, evalWorkerRequestSchema } from "./eval-messages.ts";
import { workerMessageSchema, workerSpecSchema } from "./messages.ts";

export const PROTOCOL_SCHEMA_PATH = fileURLToPath(new URL("../../worker/protocol.schema.json", import.meta.url));

/** The file's text: what the workers read (run spec, eval requests) and write, as zod parses them (io "input"). */
export function protocolSchemaText(): string {
  const file = {
    $comment: "Emitted from packages/trainer/src/worker/messages.ts by protocol-schema.ts; do not edit by hand.",
    spec: z.toJSONSchema(workerSpecSchema, { io: "input" }),
    message: z.toJSONSchema(workerMessageSchema, { io: "input" }),
    eval_request: z.toJSONSchema(evalWorkerRequestSchema, { io: "input" }),
    eval_message: z.toJSONSchema(evalWorkerMessageSchema, { io: "input" }),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(PROTOCOL_SCHEMA_PATH, protocolSchemaText());
  console.log(`wrote ${PROTOCOL_SCHEMA_PATH}`);
}
