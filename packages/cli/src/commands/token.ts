import { createApiToken, openDatabase, revokeApiToken } from "@subnet-review/db";
import { z } from "zod";
import { numberFlag, parseFlags, UsageError } from "../args.ts";
import { formatTable } from "../table.ts";

export const tokenUsage = `pnpm review token create --name NAME [--json]   make an API write token (shown once)
pnpm review token list [--json]                 list tokens (never their secrets)
pnpm review token revoke --id ID                revoke a token`;

export async function tokenCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const database = await openDatabase();
  try {
    if (sub === "create") {
      const flags = parseFlags(
        rest,
        { name: { type: "string" }, json: { type: "boolean" } },
        z.object({ name: z.string().min(1, "a name is required").max(100, "at most 100 characters"), json: z.boolean().optional() }),
      );
      const token = await createApiToken(database.db, flags.name);
      if (flags.json) console.log(JSON.stringify(token));
      else console.log(`token ${token.id} (${token.name}): ${token.secret}\nStore it now: only its hash is kept.`);
    } else if (sub === "list") {
      const flags = parseFlags(rest, { json: { type: "boolean" } }, z.object({ json: z.boolean().optional() }));
      const rows = await database.db.apiToken.findMany({
        orderBy: { id: "asc" },
        select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
      });
      if (flags.json) console.log(JSON.stringify(rows));
      else
        console.log(
          formatTable(
            ["id", "name", "prefix", "created", "last used", "revoked"],
            rows.map((r) => [String(r.id), r.name, `${r.prefix}…`, r.createdAt.toISOString(), r.lastUsedAt?.toISOString() ?? "-", r.revokedAt?.toISOString() ?? "-"]),
          ),
        );
    } else if (sub === "revoke") {
      const flags = parseFlags(rest, { id: { type: "string" } }, z.object({ id: numberFlag.pipe(z.number().int().positive("a token id (see token list)")) }));
      if (!(await revokeApiToken(database.db, flags.id))) throw new UsageError(`--id: no active token ${flags.id}`);
      console.log(`token ${flags.id} revoked`);
    } else {
      throw new UsageError(`token: unknown subcommand ${JSON.stringify(sub ?? "")}; one of create, list, revoke`);
    }
  } finally {
    await database.close();
  }
}
