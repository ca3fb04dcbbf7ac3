import { randomUUID } from "node:crypto";
import { initTRPC, TRPCError } from "@trpc/server";
import { deserializeFigures, figureTransformer, InputError, WireError } from "@subnet-review/core";
import { findActiveToken, type Db } from "@subnet-review/db";
import { z, ZodError } from "zod";
import { FieldError, nulCharacterPath } from "./fields.ts";
import { publicView } from "./public-view.ts";
import { clearAllResponseCaches } from "./response-cache.ts";
import { SerialisedAnswer, type SerialisedAnswers } from "./serialised-answers.ts";
import { dataVersionOf } from "./view/data-version.ts";

export interface Context {
  db: Db;
  /** The bearer secret presented with the request, checked only by procedures that write or show private fields. */
  bearer: string | null;
  /** Names this request in the logs and in an internal error's message. */
  requestId: string;
  /** A token's lastUsedAt is written at most this often (ms). */
  lastUsedEveryMs: number;
  /** Where read answers go already serialised, when the HTTP server splices them into its response (server.ts). */
  serialised?: SerialisedAnswers | undefined;
}

/** A token's lastUsedAt is written at most this often: every write locking its token row halved write throughput. */
export const LAST_USED_EVERY_MS = 60_000;

/** Builds the per-request context from the Authorization header. */
export function createContext(
  db: Db,
  headers: { authorization?: string | undefined },
  requestId: string = randomUUID(),
  lastUsedEveryMs: number = LAST_USED_EVERY_MS,
  serialised?: SerialisedAnswers,
): Context {
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "");
  return { db, bearer: match?.[1] ?? null, requestId, lastUsedEveryMs, serialised };
}

/** What a client may read about a failure: never Prisma text, SQL or source paths; an internal error only its id. */
export const INTERNAL_ERROR = "internal error";

const t = initTRPC.context<Context>().create({
  // Never ship stack traces to clients, whatever NODE_ENV says.
  isDev: false,
  // Figures share inputs: send each once (see core/wire.ts). Clients use the same transformer. Input that the
  // transformer could not have written is the client's mistake: a 400 naming where, not a 500.
  transformer: {
    input: {
      serialize: figureTransformer.serialize,
      deserialize: (wire: unknown) => {
        try {
          return deserializeFigures(wire);
        } catch (err) {
          if (err instanceof WireError) throw new TRPCError({ code: "BAD_REQUEST", message: `input: ${err.message}`, cause: err });
          throw err;
        }
      },
    },
    // An answer already serialised (serialised-answers.ts) passes as it is: its bytes are spliced in after.
    output: {
      serialize: (value: unknown) => (value instanceof SerialisedAnswer ? value : figureTransformer.serialize(value)),
      deserialize: figureTransformer.deserialize,
    },
  },
  errorFormatter({ shape, error, ctx }) {
    // Only the input's own issues: a ZodError from parsing stored data is internal.
    const zodError = error.code === "BAD_REQUEST" && error.cause instanceof ZodError ? error.cause : null;
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    const requestId = ctx?.requestId ?? null;
    return {
      ...shape,
      message: internal ? `${INTERNAL_ERROR} (request ${requestId ?? "unknown"})` : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        requestId,
        // Field paths with what is allowed, e.g. [{ path: "trainable", message: "..." }].
        fields:
          zodError?.issues.map((i) => ({ path: i.path.join("."), message: i.message })) ??
          (error.cause instanceof FieldError ? [{ path: error.cause.field, message: error.cause.detail }] : null),
      },
    };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Every procedure refuses NUL characters anywhere in its input, naming the field (see fields.ts). */
const refuseNulCharacters = t.middleware(async ({ getRawInput, next }) => {
  const at = nulCharacterPath(await getRawInput());
  if (at) {
    const cause = new FieldError(at.length ? at.join(".") : "input", "must not contain NUL characters (U+0000), which text columns cannot store");
    throw new TRPCError({ code: "BAD_REQUEST", message: cause.message, cause });
  }
  return next();
});

const checkedProcedure = t.procedure.use(refuseNulCharacters);

/**
 * Reads are public; an anonymous reader gets them without machine paths or raw error text (see public-view.ts).
 * Over HTTP the answer is serialised once per answered object (a cached view) and spliced into the response.
 */
export const publicProcedure = checkedProcedure.use(async ({ ctx, next }) => {
  const result = await next();
  if (!result.ok) return result;
  const data = (await holdsToken(ctx)) ? result.data : publicView(result.data);
  return { ...result, data: ctx.serialised ? ctx.serialised.hold(data) : data };
});

/** The active token presented with the request, or null (none, unknown or revoked). */
async function presentedToken(ctx: Context) {
  return ctx.bearer ? findActiveToken(ctx.db, ctx.bearer) : null;
}

/** Whether the request carries a valid token: token holders see private fields (machine paths, raw error text). */
export async function holdsToken(ctx: Context): Promise<boolean> {
  return (await presentedToken(ctx)) !== null;
}

/**
 * Writes need a token made by `pnpm review token create`; reads are public. A write moves the data version before it
 * is acknowledged (the built views are rebuilt on the next read) and clears cached reads; a failed one too, as it
 * may have committed part of its work.
 */
export const protectedProcedure = checkedProcedure.use(async ({ ctx, next }) => {
  if (!ctx.bearer) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "writes need an API token: Authorization: Bearer <token>" });
  }
  const token = await presentedToken(ctx);
  if (!token) throw new TRPCError({ code: "UNAUTHORIZED", message: "unknown or revoked API token" });
  const now = new Date();
  const staleBefore = new Date(now.getTime() - ctx.lastUsedEveryMs);
  if (!token.lastUsedAt || token.lastUsedAt < staleBefore) {
    // Conditional: of concurrent calls with a stale stamp, the first writes it and the rest match no row.
    await ctx.db.apiToken.updateMany({
      where: { id: token.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: staleBefore } }] },
      data: { lastUsedAt: now },
    });
  }
  const result = await next({ ctx: { ...ctx, tokenId: token.id } });
  dataVersionOf(ctx.db).changed();
  clearAllResponseCaches();
  return result;
});

export { z };

/** Core's InputError becomes a BAD_REQUEST naming the field; anything else is rethrown as it is. */
export function badInput(err: unknown, prefix = ""): never {
  if (err instanceof InputError) {
    throw new TRPCError({ code: "BAD_REQUEST", message: `${prefix}${err.message}`, cause: err });
  }
  throw err;
}
