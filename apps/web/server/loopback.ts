import { randomBytes, timingSafeEqual } from "node:crypto";
import { Agent, type IncomingMessage, request } from "node:http";
import type { AddressInfo } from "node:net";
import type { Rendered } from "./cached-page.ts";

/** The private header by which this server asks itself for a page, past its own render cache. */
export const BYPASS_HEADER = "x-render-cache-bypass";

/** A secret per process: only this server's own requests carry it. */
export function bypassSecret(): string {
  return randomBytes(32).toString("hex");
}

/** Whether a request carries this process's bypass secret (compared in constant time). */
export function isBypass(req: IncomingMessage, secret: string): boolean {
  const value = req.headers[BYPASS_HEADER];
  if (typeof value !== "string" || value.length !== secret.length) return false;
  return timingSafeEqual(Buffer.from(value), Buffer.from(secret));
}

/** Where this server reaches itself: the address it listens on, or loopback when it listens on every address. */
export function selfAddress(address: AddressInfo): { host: string; port: number } {
  const any = address.address === "0.0.0.0" || address.address === "::";
  const host = any ? (address.family === "IPv6" ? "::1" : "127.0.0.1") : address.address;
  return { host, port: address.port };
}

/**
 * Renders a path by asking this server for it, with the bypass secret, as a plain GET without cookies and with an
 * identity body, so what comes back is what Next answers anyone. Bodies over `maxBytes` are refused (they could not
 * be kept).
 */
export function loopbackRenderer(opts: {
  host: string;
  port: number;
  secret: string;
  timeoutMs: number;
  maxBytes: number;
}): (path: string) => Promise<Rendered> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  return (path) =>
    new Promise<Rendered>((resolve, reject) => {
      const req = request(
        {
          host: opts.host,
          port: opts.port,
          path,
          method: "GET",
          agent,
          timeout: opts.timeoutMs,
          headers: { "accept-encoding": "identity", [BYPASS_HEADER]: opts.secret },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > opts.maxBytes) req.destroy(new Error(`${path}: over ${opts.maxBytes} bytes, more than the render cache holds`));
            else chunks.push(chunk);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${path}: not rendered within ${opts.timeoutMs} ms`)));
      req.on("error", reject);
      req.end();
    });
}
