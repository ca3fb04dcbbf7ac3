/**
 * The Content-Security-Policy: only this origin's scripts, styles, fonts and images, no framing. `inlineScripts`
 * says which inline scripts may run: "unsafe-inline" where Next writes its own (the App Router's 404 and routes),
 * or the sha256 sources of the only ones a page has (the review page: its theme script).
 */
export function contentSecurityPolicy(inlineScripts: "unsafe-inline" | readonly string[]): string {
  const inline = inlineScripts === "unsafe-inline" ? ["'unsafe-inline'"] : inlineScripts.map((hash) => `'${hash}'`);
  // `next dev` evaluates its refresh code, so only there is eval allowed
  const dev = process.env.NODE_ENV === "development" ? ["'unsafe-eval'"] : [];
  return [
    "default-src 'self'",
    `script-src ${["'self'", ...inline, ...dev].join(" ")}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Every response's headers: the policy above, no framing, no sniffing, no referrer beyond the origin. */
export const securityHeaders = [
  { key: "Content-Security-Policy", value: contentSecurityPolicy("unsafe-inline") },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
];
