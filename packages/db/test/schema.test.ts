import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { getDMMF, type GetDMMFError } from "@prisma/get-dmmf";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "../src/testing.ts";

// The migrations are hand-kept SQL (the schema engine that `prisma migrate` needs cannot be installed here), so this
// compares the migrated database with schema.prisma as Prisma itself parses it: every table, column (type,
// nullability, default), index and foreign key, and nothing more. It reads only the schema, so new models and new
// migration folders are covered without editing it.

type Dmmf = Exclude<ReturnType<typeof getDMMF>, GetDMMFError>;
type Field = Dmmf["datamodel"]["models"][number]["fields"][number];

const schemaPath = fileURLToPath(new URL("../prisma/schema.prisma", import.meta.url));
const MIGRATIONS_TABLE = "_migrations";

let open: Awaited<ReturnType<typeof openTestDatabase>>;
let client: pg.Client;
let dmmf: Dmmf;
beforeAll(async () => {
  open = await openTestDatabase();
  client = new pg.Client({ connectionString: open.url });
  await client.connect();
  const parsed = getDMMF({ datamodel: await readFile(schemaPath, "utf8") });
  if ("reason" in parsed) throw new Error(`schema.prisma does not parse: ${parsed.reason}`);
  dmmf = parsed;
});
afterAll(async () => {
  await client.end();
  await open.close();
});

const scalarTypes: Record<string, string> = {
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  String: "text",
  Boolean: "boolean",
  DateTime: "timestamp(3) without time zone",
  Json: "jsonb",
  Bytes: "bytea",
  Decimal: "numeric(65,30)",
};

/** Postgres's format_type() of a @db.* native type, for the ones this schema could plausibly use. */
function nativeType([name, args]: [string, string[]]): string {
  const p = args[0];
  const types: Record<string, string> = {
    Text: "text",
    Integer: "integer",
    SmallInt: "smallint",
    BigInt: "bigint",
    DoublePrecision: "double precision",
    Real: "real",
    Boolean: "boolean",
    Uuid: "uuid",
    Date: "date",
    JsonB: "jsonb",
    Json: "json",
    VarChar: p ? `character varying(${p})` : "character varying",
    Char: `character(${p ?? 1})`,
    Timestamp: `timestamp(${p ?? 3}) without time zone`,
    Timestamptz: `timestamp(${p ?? 3}) with time zone`,
    Decimal: args.length ? `numeric(${args.join(",")})` : "numeric",
  };
  const type = types[name];
  if (!type) throw new Error(`@db.${name}: add its Postgres type to this test`);
  return type;
}

function columnType(field: Field): string {
  const native = field.nativeType as [string, string[]] | null | undefined;
  const base = native ? nativeType(native) : scalarTypes[field.type];
  if (!base) throw new Error(`${field.type}: add its Postgres type to this test`);
  return field.isList ? `${base}[]` : base;
}

/** The column default Postgres should hold for a field: what Prisma's migrate would have written. */
function columnDefault(field: Field): string | null {
  const d = field.default as unknown;
  if (d === undefined || field.isUpdatedAt) return null;
  if (typeof d === "object" && d !== null && "name" in d) {
    const fn = d as { name: string; args: unknown[] };
    if (fn.name === "autoincrement") return "autoincrement";
    if (fn.name === "now") return "CURRENT_TIMESTAMP";
    if (fn.name === "dbgenerated") return String(fn.args[0]);
    return null; // uuid(), cuid(), ...: made by the client, not the database
  }
  if (typeof d === "string") return `'${d.replaceAll("'", "''")}'::${field.type === "Json" ? "jsonb" : "text"}`;
  return String(d);
}

function describeColumn(table: string, column: string, type: string, notNull: boolean, dflt: string | null): string {
  return `${table}.${column}: ${type}${notNull ? " NOT NULL" : ""}${dflt === null ? "" : ` DEFAULT ${dflt}`}`;
}

const modelTable = (name: string) => dmmf.datamodel.models.find((m) => m.name === name)!.dbName ?? name;
const fieldColumn = (model: string, field: string) => {
  const f = dmmf.datamodel.models.find((m) => m.name === model)!.fields.find((x) => x.name === field)!;
  return f.dbName ?? f.name;
};

describe("the migrated database matches schema.prisma", () => {
  it("has a table for every model and no other", async () => {
    const { rows } = await client.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> $1 ORDER BY 1`,
      [MIGRATIONS_TABLE],
    );
    expect(rows.map((r) => r.table)).toEqual(dmmf.datamodel.models.map((m) => m.dbName ?? m.name).sort());
  });

  it("has every column with its type, nullability and default, and no other", async () => {
    const { rows } = await client.query<{ table: string; column: string; type: string; not_null: boolean; default: string | null }>(
      `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> $1 AND a.attnum > 0 AND NOT a.attisdropped`,
      [MIGRATIONS_TABLE],
    );
    const actual = rows
      .map((r) => describeColumn(r.table, r.column, r.type, r.not_null, r.default?.startsWith("nextval(") ? "autoincrement" : r.default))
      .sort();
    const expected = dmmf.datamodel.models
      .flatMap((m) =>
        m.fields
          .filter((f) => f.kind === "scalar" || f.kind === "enum")
          .map((f) => describeColumn(m.dbName ?? m.name, f.dbName ?? f.name, columnType(f), f.isRequired, columnDefault(f))),
      )
      .sort();
    expect(actual).toEqual(expected);
  });

  it("has every primary key, unique and plain index, and no other", async () => {
    const { rows } = await client.query<{ table: string; primary: boolean; unique: boolean; columns: string[] }>(
      `SELECT t.relname AS table, i.indisprimary AS primary, i.indisunique AS unique,
              array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
       FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE n.nspname = 'public' AND t.relname <> $1`,
      [MIGRATIONS_TABLE],
    );
    const actual = rows.map((r) => `${r.table} ${r.primary ? "id" : r.unique ? "unique" : "normal"} (${r.columns.join(", ")})`).sort();
    const expected = dmmf.datamodel.indexes
      .map((i) => `${modelTable(i.model)} ${i.type} (${i.fields.map((f) => fieldColumn(i.model, f.name)).join(", ")})`)
      .sort();
    expect(actual).toEqual(expected);
  });

  it("has every foreign key with its columns, target and ON DELETE, and no other", async () => {
    const { rows } = await client.query<{ table: string; columns: string[]; target: string; target_columns: string[]; on_delete: string }>(
      `SELECT t.relname AS table, r.relname AS target, c.confdeltype AS on_delete,
              array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
              array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS target_columns
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE c.contype = 'f' AND n.nspname = 'public'`,
    );
    const onDelete: Record<string, string> = { a: "NoAction", r: "Restrict", c: "Cascade", n: "SetNull", d: "SetDefault" };
    const actual = rows
      .map((r) => `${r.table} (${r.columns.join(", ")}) -> ${r.target} (${r.target_columns.join(", ")}) ON DELETE ${onDelete[r.on_delete]}`)
      .sort();
    const expected = dmmf.datamodel.models
      .flatMap((m) =>
        m.fields
          .filter((f) => f.kind === "object" && f.relationFromFields?.length)
          .map((f) => {
            // Prisma's default: Restrict when the relation is required, SetNull when it is optional.
            const action = f.relationOnDelete ?? (f.isRequired ? "Restrict" : "SetNull");
            const from = f.relationFromFields!.map((x) => fieldColumn(m.name, x)).join(", ");
            const to = (f.relationToFields ?? []).map((x) => fieldColumn(f.type, x)).join(", ");
            return `${m.dbName ?? m.name} (${from}) -> ${modelTable(f.type)} (${to}) ON DELETE ${action}`;
          }),
      )
      .sort();
    expect(actual).toEqual(expected);
  });

  // Beyond the catalog: Prisma's own query compiler must be able to read every model from the migrated tables.
  it("serves findMany on every model through the Prisma client", async () => {
    for (const model of dmmf.datamodel.models) {
      const delegate = (open.db as unknown as Record<string, { findMany(args: object): Promise<unknown[]> }>)[
        model.name[0]!.toLowerCase() + model.name.slice(1)
      ]!;
      await expect(delegate.findMany({ take: 1 })).resolves.toEqual([]);
    }
  });
});
