// Write throughput with one token: runs.appendSteps (one step per call) from concurrent writers, with the token's
// lastUsedAt written at most once a minute (the api's default) against written on every call (as it was before).
// Same server code, same database, alternating rounds; the figure is the ratio.
//   pnpm exec tsx bench/api-writes.ts   (Postgres at TEST_DATABASE_URL or 127.0.0.1:5432, database test)
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serializeFigures } from "../packages/core/src/index.ts";
import { startTestApi } from "../packages/api/src/testing.ts";

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const writers = Number(process.env.BENCH_CONNECTIONS ?? 16);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);

const modes = { throttled: 60_000, everyCall: 0 } as const;
type Mode = keyof typeof modes;

async function round(mode: Mode, index: number): Promise<number> {
  const api = await startTestApi({ lastUsedEveryMs: modes[mode], log: () => {} });
  try {
    const token = await api.token("bench");
    const runId = `bench-${mode}-${index}`;
    await api.client(token).runs.create.mutate({
      id: runId,
      cell: "A",
      trainable: 8,
      kept: 0,
      steps: 1_000_000,
      spec: {},
      experts: null,
      hardware: null,
      gitCommit: null,
      experiment: null,
      startedAt: new Date().toISOString(),
    });
    const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
    let next = 1;
    let done = 0;
    const stopAt = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (Date.now() < stopAt) {
          const step = {
            step: next++,
            loss: 2,
            gradNorm: 1,
            lr: 1e-5,
            tokens: 8192,
            tokensPerSecond: 1,
            stepSeconds: 1,
            memAllocatedBytes: null,
            memPeakBytes: null,
          };
          const res = await fetch(`${api.url}/trpc/runs.appendSteps`, {
            method: "POST",
            headers,
            body: JSON.stringify(serializeFigures({ runId, steps: [step] })),
          });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`appendSteps answered ${res.status}`);
          done++;
        }
      }),
    );
    return done / seconds;
  } finally {
    await api.stop();
  }
}

const perMode: Record<Mode, number[]> = { throttled: [], everyCall: [] };
for (let i = 0; i < rounds; i++) {
  for (const mode of (i % 2 ? ["everyCall", "throttled"] : ["throttled", "everyCall"]) as Mode[]) {
    const rate = await round(mode, i);
    perMode[mode].push(rate);
    console.log(`round ${i + 1} ${mode.padEnd(9)} ${rate.toFixed(0)} writes/s`);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ratio = mean(perMode.throttled) / mean(perMode.everyCall);
const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}`,
  writers,
  seconds,
  rounds,
  writesPerSecond: { throttled: perMode.throttled, everyCall: perMode.everyCall },
  ratio,
};
console.log(
  `lastUsedAt once a minute: ${mean(perMode.throttled).toFixed(0)} writes/s; on every call: ${mean(perMode.everyCall).toFixed(0)} writes/s; ratio ${ratio.toFixed(2)}`,
);
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", "api-writes.json"), `${JSON.stringify(result, null, 2)}\n`);
