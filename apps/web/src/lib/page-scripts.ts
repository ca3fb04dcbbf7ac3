import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Sets the theme before first paint: the saved choice, else the system's. */
export const themeScript = `try{var t=localStorage.getItem("theme")||(matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light");document.documentElement.dataset.theme=t}catch(e){}`;

/** The theme script's CSP source: the review page allows this inline script and no other. */
export const themeScriptHash = `sha256-${createHash("sha256").update(themeScript).digest("base64")}`;

/** Where scripts/build-islands.mjs writes the islands' entry, under public/ (served as /_islands/client.js). */
export const ISLANDS_ENTRY = "_islands/client.js";

let src: string | undefined;

/**
 * The islands' script URL, versioned by its content so a new build is never mixed with a cached old one. null
 * under `next dev`, where Next hydrates the whole page itself.
 */
export function islandsScriptSrc(): string | null {
  if (process.env.NODE_ENV !== "production") return null;
  if (src === undefined) {
    let body: Buffer;
    try {
      body = readFileSync(join(process.cwd(), "public", ISLANDS_ENTRY));
    } catch {
      throw new Error(`web: public/${ISLANDS_ENTRY} is missing: build the web app with \`pnpm --filter @subnet-review/web build\``);
    }
    src = `/${ISLANDS_ENTRY}?v=${createHash("sha256").update(body).digest("hex").slice(0, 12)}`;
  }
  return src;
}
