import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type Db = PrismaClient;

/** A Prisma client over node-postgres; `maxConnections` bounds the pool (PGlite's socket server multiplexes few). */
export function createDb(url: string, opts: { maxConnections?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: url, max: opts.maxConnections ?? 10 });
  return new PrismaClient({ adapter });
}
