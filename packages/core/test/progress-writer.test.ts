import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProgressWriter } from "../src/node.ts";

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, write: (text: string) => writes.push(text) };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => vi.useRealTimers());

describe("ProgressWriter", () => {
  it("off a terminal writes a line at most every everyMs, and always the final one", () => {
    const s = stream(false);
    const p = new ProgressWriter(s, { everyMs: 1_000 });
    p.update("1"); // the first shows
    vi.setSystemTime(500);
    p.update("2");
    vi.setSystemTime(1_000);
    p.update("3");
    vi.setSystemTime(1_001);
    p.update("4", true);
    expect(s.writes).toEqual(["1\n", "3\n", "4\n"]);
  });

  it("on a terminal redraws the line in place, throttled, and ends it on the final update or end()", () => {
    const s = stream(true);
    const p = new ProgressWriter(s, { ttyEveryMs: 100 });
    p.update("a");
    vi.setSystemTime(50);
    p.update("b");
    vi.setSystemTime(150);
    p.update("c");
    p.note("a note");
    p.update("d", true);
    p.update("e");
    vi.setSystemTime(400);
    p.update("f");
    p.end();
    p.end();
    expect(s.writes).toEqual(["\r\x1b[2Ka", "\r\x1b[2Kc", "\na note\n", "\r\x1b[2Kd\n", "\r\x1b[2Kf", "\n"]);
  });
});
