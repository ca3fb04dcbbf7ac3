// Server code only: read by getServerSideProps, route handlers and app/not-found, which Next keeps out of browser bundles.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deserializeFigures, serializeFigures } from "@subnet-review/core";
import { TRPCClientError } from "@trpc/client";
import { webEnv } from "./env";
import { api, type CycleDetail, type CycleRange, type ReviewList, type ReviewView } from "./api";

// The last answer the api gave for each query, kept in memory and on disk, so the page can still be served (with
// a "data as of" banner) while the api is down or too slow, and after this server restarts.
const memory = new Map<string, { at: string; data: unknown }>();

function fileOf(key: string): string {
  return join(webEnv().cacheDir, `${encodeURIComponent(key)}.json`);
}

function remember(key: string, data: unknown, at: string): void {
  memory.set(key, { at, data });
  try {
    mkdirSync(webEnv().cacheDir, { recursive: true });
    const file = fileOf(key);
    // Written whole, then renamed over the old copy: a crash never leaves half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify({ at, data: serializeFigures(data) }));
    renameSync(`${file}.tmp`, file);
  } catch {
    // A read-only disk only loses the copy that survives a restart.
  }
}

function recall(key: string): { at: string; data: unknown } | null {
  const hit = memory.get(key);
  if (hit) return hit;
  try {
    const saved = JSON.parse(readFileSync(fileOf(key), "utf8")) as { at: string; data: unknown };
    const entry = { at: saved.at, data: deserializeFigures(saved.data) };
    memory.set(key, entry);
    return entry;
  } catch {
    return null;
  }
}

export interface Fresh<T> {
  data: T;
  /** null: live from the api; else the ISO time of the last good answer being served */
  asOf: string | null;
  /** why the live answer was not used */
  problem: string | null;
}

/** A "not found" from the api is an answer, not an outage. */
export function isNotFound(err: unknown): boolean {
  return err instanceof TRPCClientError && (err.data as { code?: string } | undefined)?.code === "NOT_FOUND";
}

async function withLastGood<T>(key: string, load: () => Promise<T>): Promise<Fresh<T>> {
  try {
    const data = await load();
    remember(key, data, new Date().toISOString());
    return { data, asOf: null, problem: null };
  } catch (err) {
    if (isNotFound(err)) throw err;
    const saved = recall(key);
    if (!saved) throw err;
    const cause = err instanceof Error ? (err.cause as { name?: string } | undefined) : undefined;
    const problem = cause?.name === "TimeoutError" ? "the api did not answer in time" : "the api is unreachable";
    return { data: saved.data as T, asOf: saved.at, problem };
  }
}

/** The first review's slug as the api last listed it, so the home page can ask for it while the list is asked. */
export function rememberedFirstSlug(): string | null {
  return (recall("list")?.data as ReviewList | undefined)?.[0]?.slug ?? null;
}

export function reviewList(): Promise<Fresh<ReviewList>> {
  return withLastGood("list", () => api().review.list.query());
}

export function reviewView(slug: string, experiment?: string): Promise<Fresh<ReviewView>> {
  return withLastGood(`view:${slug}:${experiment ?? ""}`, () => api().review.bySlug.query({ slug, ...(experiment ? { experiment } : {}) }));
}

export function cycleRange(netuid: number, fromCycle: number, toCycle: number): Promise<Fresh<CycleRange>> {
  return withLastGood(`cycles:${netuid}:${fromCycle}-${toCycle}`, () => api().telemetry.cycles.query({ netuid, fromCycle, toCycle }));
}

export function cycleDetail(netuid: number, firstBlock: number, length: number): Promise<Fresh<CycleDetail>> {
  return withLastGood(`cycle:${netuid}:${firstBlock}-${length}`, () => api().telemetry.cycle.query({ netuid, firstBlock, length }));
}
