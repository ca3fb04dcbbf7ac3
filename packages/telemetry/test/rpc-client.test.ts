import { afterEach, describe, expect, it } from "vitest";
import { RpcError, SubstrateRpc, subnetworkNKey } from "../src/index.ts";
import { FakeChain, FakeNode, PHASES_500 } from "./fake-node.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start() {
  const chain = new FakeChain({
    netuid: 102,
    schedule: [{ fromBlock: 0, phases: PHASES_500 }],
    fromBlock: 5000,
    toBlock: 5999,
    neurons: 8,
    validators: 1,
    seed: 1,
  });
  const node = await new FakeNode(chain).start();
  cleanups.push(() => node.stop());
  return { chain, node };
}

describe("SubstrateRpc", () => {
  for (const kind of ["ws", "http"] as const) {
    it(`matches batch replies by id and validates results (${kind})`, async () => {
      const { chain, node } = await start();
      const rpc = new SubstrateRpc({ url: kind === "ws" ? node.wsUrl : node.httpUrl });
      cleanups.push(() => rpc.close());
      node.knobs.reverseBatches = true;
      const hashes = await rpc.blockHashes([1, 2, 3, 4]);
      expect(hashes).toEqual([1, 2, 3, 4].map((n) => chain.hashOf(n)));
      const fin = await rpc.finalized();
      expect(fin).toEqual({ hash: chain.hashOf(chain.finalized), number: chain.finalized });
      expect(await rpc.storage(subnetworkNKey(102), fin.hash)).toBe("0x0800");
      expect((await rpc.runtimeVersion()).specVersion).toBe(393);
      await expect(rpc.call("nope_method", [], (await import("zod")).z.unknown())).rejects.toThrow(RpcError);
      await expect(rpc.blockHashes([chain.head + 10])).rejects.toThrow(/no such block/);
    });
  }

  it("spaces calls to the requests-per-minute limit", async () => {
    const { node } = await start();
    const rpc = new SubstrateRpc({ url: node.httpUrl, requestsPerMinute: 3000 }); // one call per 20 ms
    cleanups.push(() => rpc.close());
    const started = performance.now();
    for (let i = 0; i < 6; i++) await rpc.finalizedHead();
    await rpc.blockHashes([1, 2, 3, 4]); // sent at >= 120 ms, holds four 20 ms slots
    await rpc.finalizedHead(); // so this one waits until >= 200 ms
    expect(performance.now() - started).toBeGreaterThanOrEqual(200 - 5);
    expect(rpc.stats).toMatchObject({ calls: 11, roundTrips: 8 });
  });

  it("gives up after maxRetries with the transport error", async () => {
    const { node } = await start();
    node.knobs.tooManyRequests = 100;
    const rpc = new SubstrateRpc({ url: node.httpUrl, maxRetries: 3, backoffBaseMs: 1 });
    await expect(rpc.finalizedHead()).rejects.toThrow(/HTTP 429/);
    expect(node.rejected429).toBe(4);
  });

  it("refuses bad options naming the field", () => {
    expect(() => new SubstrateRpc({ url: "ftp://x" })).toThrow(/url/);
    expect(() => new SubstrateRpc({ url: "ws://x", requestsPerMinute: -1 })).toThrow(/requestsPerMinute/);
  });
});
