import { defineConfig } from "prisma/config";

// Prisma 7 reads no .env; generate needs no live database, so a placeholder URL is fine when unset.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://placeholder@127.0.0.1:5432/placeholder" },
});
