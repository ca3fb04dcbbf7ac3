import type { ServerResponse } from "node:http";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import type { Encoding } from "./accept-encoding.ts";
import type { Version } from "./data-version.ts";

/** A page as Next answered it over loopback. */
export interface Rendered {
  status: number;
  /** Node's rawHeaders: name, value, name, value … as sent. */
  rawHeaders: string[];
  body: Buffer;
}

/** One coding of a cached page: its body and the headers that go with it, as writeHead takes them (flat). */
interface Variant {
  head: string[];
  body: Buffer;
}

export interface CachedPage {
  /** The api's data version read before the render: the page shows data at least that new. */
  version: Version;
  status: number;
  /**
   * When the copy must be rendered again whatever the data version: Next's answer came with s-maxage, so a cache
   * below this one (Next's own, for a page it re-renders on a timer) may have answered with a copy that old.
   * Infinity without s-maxage.
   */
  expiresAt: number;
  /** Request headers Next's answer varies on (besides Accept-Encoding): a request carrying one is not answered from here. */
  vary: string[];
  variants: Record<Encoding, Variant>;
  /** What the page holds in memory, for the cache's bound. */
  bytes: number;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and what this server sets per answer: never stored.
const notStored = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "date", "content-length", "vary"]);

/** Bodies smaller than this are answered as they are: compressing them saves less than the header costs. */
const MIN_COMPRESS_BYTES = 1024;

const gzipped = promisify(gzip);
const brotlied = promisify(brotliCompress);

/** Why a rendered answer cannot be kept for everyone, or null when it can. */
export function notCacheable(r: Rendered): string | null {
  if (r.status !== 200) return `status ${r.status}`;
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const name = r.rawHeaders[i]!.toLowerCase();
    const value = r.rawHeaders[i + 1]!;
    if (name === "set-cookie") return "it sets a cookie";
    if (name === "content-encoding" && value.trim().toLowerCase() !== "identity") return `it is ${value}-encoded`;
    if (name === "vary" && value.includes("*")) return "it varies on every request header";
  }
  return null;
}

/**
 * A cacheable answer (see notCacheable) made ready to send: its headers less the hop-by-hop ones (Next's security
 * headers, content type and cache policy stay), with a gzip and a brotli body computed once (off the main thread).
 */
export async function cachedPage(r: Rendered, version: Version): Promise<CachedPage> {
  const head: string[] = [];
  const vary: string[] = [];
  let sharedMaxAge: number | null = null;
  const dropped = new Set(notStored);
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const name = r.rawHeaders[i]!.toLowerCase();
    if (name === "connection") for (const named of r.rawHeaders[i + 1]!.split(",")) dropped.add(named.trim().toLowerCase());
  }
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const name = r.rawHeaders[i]!;
    const value = r.rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    const sMaxAge = lower === "cache-control" ? /(?:^|,)\s*s-maxage\s*=\s*"?(\d+)/i.exec(value) : null;
    if (sMaxAge) sharedMaxAge = Number(sMaxAge[1]);
    if (lower === "vary") vary.push(...value.split(",").map((v) => v.trim().toLowerCase()));
    else if (lower !== "content-encoding" && !dropped.has(lower)) head.push(name, value);
  }
  const varyOn = [...new Set(vary.filter((v) => v && v !== "accept-encoding"))];
  const varyHeader = [...varyOn, "Accept-Encoding"].join(", ");
  const variant = (body: Buffer, encoding: Encoding): Variant => ({
    head: [...head, "Vary", varyHeader, ...(encoding === "identity" ? [] : ["Content-Encoding", encoding]), "Content-Length", String(body.length)],
    body,
  });
  const identity = variant(r.body, "identity");
  let gz = identity;
  let br = identity;
  if (r.body.length >= MIN_COMPRESS_BYTES) {
    const [g, b] = await Promise.all([
      gzipped(r.body, { level: 9 }),
      // quality 5: within a few percent of gzip -9's size below it, at a small part of quality 11's time (a page
      // can be re-rendered every second while a run trains)
      brotlied(r.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: r.body.length } }),
    ]);
    if (g.length < r.body.length) gz = variant(g, "gzip");
    if (b.length < r.body.length) br = variant(b, "br");
  }
  const bytes = [...new Set([identity, gz, br])].reduce((sum, v) => sum + v.body.length + v.head.reduce((s, h) => s + h.length, 0), 0);
  const expiresAt = sharedMaxAge === null ? Number.POSITIVE_INFINITY : Date.now() + sharedMaxAge * 1000;
  return { version, status: r.status, expiresAt, vary: varyOn, variants: { identity, gzip: gz, br }, bytes };
}

/** Whether a request may be answered with this page: it carries none of the headers the page varies on. */
export function varyAllows(page: CachedPage, headers: Record<string, unknown>): boolean {
  for (const name of page.vary) if (headers[name] !== undefined) return false;
  return true;
}

/** Sends the page in `encoding`, saying in X-Render-Cache how it was answered; HEAD gets the headers only. */
export function sendPage(res: ServerResponse, page: CachedPage, encoding: Encoding, state: "hit" | "miss" | "stale", head: boolean): void {
  const variant = page.variants[encoding];
  res.writeHead(page.status, [...variant.head, "X-Render-Cache", state]);
  res.end(head ? undefined : variant.body);
}
