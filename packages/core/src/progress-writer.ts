// The one progress writer of the long commands (train, eval, ingest). Node-only in use (a stream with isTTY), so
// it is exported from @subnet-review/core/node, not the browser-safe main entry.

/** Where progress goes: process.stderr, or any stream with write (and isTTY on a terminal). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressWriterOptions {
  /** off a terminal: a line at most this often, and the final one (default 2 s) */
  everyMs?: number;
  /** on a terminal: the line redrawn in place at most this often, and the final one (default 100 ms) */
  ttyEveryMs?: number;
}

/** On a terminal the line is redrawn in place; otherwise one line at most every `everyMs`. A final update always shows. */
export class ProgressWriter {
  private last = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly everyMs: number;
  private readonly ttyEveryMs: number;

  constructor(
    private readonly stream: ProgressStream,
    options: ProgressWriterOptions = {},
  ) {
    this.everyMs = options.everyMs ?? 2_000;
    this.ttyEveryMs = options.ttyEveryMs ?? 100;
  }

  update(line: string, final = false): void {
    const now = Date.now();
    if (!final && now - this.last < (this.stream.isTTY ? this.ttyEveryMs : this.everyMs)) return;
    this.last = now;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line}${final ? "\n" : ""}`);
      this.drawn = !final;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** A message on its own line (the progress line is redrawn after it). */
  note(text: string): void {
    this.stream.write(`${this.drawn ? "\n" : ""}${text}\n`);
    this.drawn = false;
  }

  /** Ends a line left open on a terminal (after the last update, when it was not marked final). */
  end(): void {
    if (this.drawn) this.stream.write("\n");
    this.drawn = false;
  }
}
