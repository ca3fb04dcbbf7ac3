import { initTRPC, TRPCError } from "@trpc/server";
import { figureTransformer } from "@subnet-review/core";
import { findActiveToken, type Db } from "@subnet-review/db";
import { z, ZodError } from "zod";

export interface Context {
  db: Db;
  /** The bearer secret presented with the request, checked only by procedures that write. */
  bearer: string | null;
}

/** Builds the per-request context from the Authorization header. */
export function createContext(db: Db, headers: { authorization?: string | undefined }): Context {
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "");
  return { db, bearer: match?.[1] ?? null };
}

const t = initTRPC.context<Context>().create({
  // Never ship stack traces to clients, whatever NODE_ENV says.
  isDev: false,
  // Figures share inputs: send each once (see core/wire.ts). Clients use the same transformer.
  transformer: figureTransformer,
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : null;
    return {
      ...shape,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        // Field paths with what is allowed, e.g. [{ path: "trainable", message: "..." }].
        fields: zodError?.issues.map((i) => ({ path: i.path.join("."), message: i.message })) ?? null,
      },
    };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure;

/** Writes need a token made by `pnpm review token create`; reads are public. */
export const protectedProcedure = t.procedure.use(async ({ ctx, next }) => {
  if (!ctx.bearer) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "writes need an API token: Authorization: Bearer <token>" });
  }
  const token = await findActiveToken(ctx.db, ctx.bearer);
  if (!token) throw new TRPCError({ code: "UNAUTHORIZED", message: "unknown or revoked API token" });
  await ctx.db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: new Date() } });
  return next({ ctx: { ...ctx, tokenId: token.id } });
});

export { z };
