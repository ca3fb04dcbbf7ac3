import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type Db = PrismaClient;

/** The URL each client was made for, so a helper given the client can open a connection of its own (data-changes.ts). */
const urls = new WeakMap<Db, string>();

/** A Prisma client over node-postgres; `maxConnections` bounds the pool (PGlite's socket server multiplexes few). */
export function createDb(url: string, opts: { maxConnections?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: url, max: opts.maxConnections ?? 10 });
  const db = new PrismaClient({ adapter });
  urls.set(db, url);
  return db;
}

/** The URL `db` was created with by createDb (undefined for a client made some other way). */
export function databaseUrlOf(db: Db): string | undefined {
  return urls.get(db);
}
