import { createServer, type Server } from "node:http";

/** Listens and resolves with the bound port (port 0 picks a free one). */
export function listen(server: Server, port: number, host = "0.0.0.0"): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/** A TCP port free on `host` now, for a child process told to listen on it (a test or bench starting a server). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const probe = createServer();
  const port = await listen(probe, 0, host);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Stops accepting, lets requests in flight finish (up to `graceMs`), then closes what is left. Answers given while
 * draining say `Connection: close`, so keep-alive clients move off instead of holding the server open. Close the
 * database only after this resolves, so no request is answered by a closed database.
 */
export function drainAndClose(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    server.on("request", (_req, res) => {
      if (!res.headersSent) res.setHeader("connection", "close");
    });
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
