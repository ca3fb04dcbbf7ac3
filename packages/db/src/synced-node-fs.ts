import { fsyncSync } from "node:fs";
import type { PGlite } from "@electric-sql/pglite";
import { NodeFS } from "@electric-sql/pglite/nodefs";

interface EmscriptenStream {
  nfd?: number;
}
interface EmscriptenModule {
  FS: { filesystems: { NODEFS: { stream_ops: { fsync?: (stream: EmscriptenStream) => number } } } };
}

/**
 * PGlite's NodeFS with a working fsync. PGlite 0.5.14 starts Postgres with fsync off (-F), its Emscripten NODEFS has
 * no fsync operation (fsync() reaches the disk as a no-op) and fdatasync() is a no-op stub, so a committed
 * transaction sits in the page cache only. With this filesystem, fsync=on and wal_sync_method=fsync, every commit's
 * WAL flush and every checkpoint calls fsync(2) on the real file. `syncs` counts them.
 */
export class SyncedNodeFS extends NodeFS {
  syncs = 0;

  override async init(pg: PGlite, opts: Parameters<NodeFS["init"]>[1]): ReturnType<NodeFS["init"]> {
    const result = await super.init(pg, opts);
    const preRun = (result.emscriptenOpts.preRun ?? []) as unknown as Array<(mod: EmscriptenModule) => void>;
    preRun.push((mod) => {
      mod.FS.filesystems.NODEFS.stream_ops.fsync = (stream) => {
        if (stream.nfd !== undefined) fsyncSync(stream.nfd);
        this.syncs++;
        return 0;
      };
    });
    return result;
  }
}

/** PGlite's start parameters with fsync on: without -F (which turns it off), WAL flushed with fsync(2). */
export function durableStartParams(defaults: readonly string[]): string[] {
  return [...defaults.filter((p) => p !== "-F"), "-c", "fsync=on", "-c", "wal_sync_method=fsync"];
}
