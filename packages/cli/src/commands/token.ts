import { createApiToken, databaseOptions, openDatabase, revokeApiToken } from "@subnet-review/db";
import { z } from "zod";
import { numberFlag, parseFlags, UsageError, type CommandHelp, type FlagSpec, type FlagSpecs } from "../args.ts";
import { cliEnv } from "../env.ts";
import { formatTable } from "../table.ts";

const json = { type: "boolean", help: "print one JSON object" } satisfies FlagSpec;
const createFlags = { name: { type: "string", value: "NAME", help: "what the token is for (1 to 100 characters)" }, json } satisfies FlagSpecs;
const listFlags = { json } satisfies FlagSpecs;
const revokeFlags = { id: { type: "string", value: "ID", help: "the token's id, as token list shows it" } } satisfies FlagSpecs;

export const tokenHelp: CommandHelp[] = [
  { usage: "pnpm review token create --name NAME [--json]\n    make an API write token (its secret is shown once; only its hash is kept)", flags: createFlags },
  { usage: "pnpm review token list [--json]\n    list tokens (never their secrets)", flags: listFlags },
  { usage: "pnpm review token revoke --id ID\n    revoke a token", flags: revokeFlags },
];

// Token ids are Postgres integers (int4).
const tokenId = numberFlag.pipe(
  z.number().int("a token id (see token list)").positive("a token id (see token list)").max(2_147_483_647, "a token id (see token list): at most 2147483647"),
);

type TokenAction = { sub: "create"; name: string; json: boolean } | { sub: "list"; json: boolean } | { sub: "revoke"; id: number };

/** The subcommand and its flags, checked before the database is opened. */
function tokenAction(argv: string[]): TokenAction {
  const [sub, ...rest] = argv;
  if (sub === "create") {
    const flags = parseFlags(
      rest,
      createFlags,
      z.object({
        name: z.string({ error: "required: a name for the token" }).min(1, "a name is required").max(100, "at most 100 characters"),
        json: z.boolean().optional(),
      }),
    );
    return { sub, name: flags.name, json: flags.json ?? false };
  }
  if (sub === "list") {
    const flags = parseFlags(rest, listFlags, z.object({ json: z.boolean().optional() }));
    return { sub, json: flags.json ?? false };
  }
  if (sub === "revoke") {
    const flags = parseFlags(rest, revokeFlags, z.object({ id: z.string({ error: "required: a token id (see token list)" }).pipe(tokenId) }));
    return { sub, id: flags.id };
  }
  throw new UsageError(`token: unknown subcommand ${JSON.stringify(sub ?? "")}; one of create, list, revoke`);
}

export async function tokenCommand(argv: string[]): Promise<void> {
  const action = tokenAction(argv);
  const database = await openDatabase(databaseOptions(cliEnv()));
  try {
    if (action.sub === "create") {
      const token = await createApiToken(database.db, action.name);
      if (action.json) console.log(JSON.stringify(token));
      else console.log(`token ${token.id} (${token.name}): ${token.secret}\nStore it now: only its hash is kept.`);
    } else if (action.sub === "list") {
      const rows = await database.db.apiToken.findMany({
        orderBy: { id: "asc" },
        select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
      });
      if (action.json) console.log(JSON.stringify(rows));
      else
        console.log(
          formatTable(
            ["id", "name", "prefix", "created", "last used", "revoked"],
            rows.map((r) => [
              String(r.id),
              r.name,
              `${r.prefix}…`,
              r.createdAt.toISOString(),
              r.lastUsedAt?.toISOString() ?? "-",
              r.revokedAt?.toISOString() ?? "-",
            ]),
          ),
        );
    } else {
      if (!(await revokeApiToken(database.db, action.id))) throw new UsageError(`--id: no active token ${action.id}`);
      console.log(`token ${action.id} revoked`);
    }
  } finally {
    await database.close();
  }
}
