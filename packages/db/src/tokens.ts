import { createHash, randomBytes } from "node:crypto";
import type { Db } from "./client.ts";

const TOKEN_PREFIX = "srv_";

export function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Creates a write token; the secret is returned once and only its SHA-256 is stored. */
export async function createApiToken(db: Db, name: string): Promise<{ id: number; name: string; secret: string }> {
  const secret = TOKEN_PREFIX + randomBytes(24).toString("base64url");
  const row = await db.apiToken.create({ data: { name, hash: hashToken(secret), prefix: secret.slice(0, 8) } });
  return { id: row.id, name: row.name, secret };
}

/** The token row for a presented secret, or null when unknown or revoked. */
export async function findActiveToken(db: Db, secret: string) {
  const row = await db.apiToken.findUnique({ where: { hash: hashToken(secret) } });
  if (!row || row.revokedAt) return null;
  return row;
}

export async function revokeApiToken(db: Db, id: number): Promise<boolean> {
  const { count } = await db.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  return count === 1;
}
