import { randomUUID } from "node:crypto";
import { figureTransformer } from "@subnet-review/core";

/** The JSON bytes of each answer value (its wire form), made once per value and kept while the value lives. */
const jsonOf = new WeakMap<object, Buffer>();

function serialisedJson(value: object): Buffer {
  let json = jsonOf.get(value);
  if (!json) jsonOf.set(value, (json = Buffer.from(JSON.stringify(figureTransformer.serialize(value)))));
  return json;
}

/** Names the placeholders of this process: never sent, so no input can spell one. */
const NONCE = randomUUID();

/** An answer already serialised, standing in tRPC's envelope as a placeholder string until spliced. */
export class SerialisedAnswer {
  constructor(
    readonly json: Buffer,
    readonly placeholder: string,
  ) {}

  toJSON(): string {
    return this.placeholder;
  }
}

/**
 * The serialised answers of one HTTP request. A review's view is built once per data version and answered many
 * times: its wire form is already kept with it (public-view.ts, core's serializeFigures), and so are its JSON
 * bytes here, because serialising the ~50 kB answer on every read was the largest share of an uncached read's CPU
 * time. The procedure still runs through tRPC (context, input, middleware, output transformer); only the answer's
 * bytes come from here: tRPC serialises the envelope around a placeholder, which splice() replaces.
 */
export class SerialisedAnswers {
  private readonly held: SerialisedAnswer[] = [];

  /** Stands in for `value` in tRPC's answer; primitives are left to tRPC. */
  hold<T>(value: T): T | SerialisedAnswer {
    if (typeof value !== "object" || value === null) return value;
    const answer = new SerialisedAnswer(serialisedJson(value), `${NONCE}:${this.held.length}`);
    this.held.push(answer);
    return answer;
  }

  /** The response body with each held answer's placeholder (a JSON string) replaced by its bytes. */
  splice(body: Buffer): Buffer {
    if (this.held.length === 0) return body;
    // Batched calls finish in any order: splice in the order the placeholders stand in the body.
    const found = this.held
      .map((answer) => ({ answer, at: body.indexOf(`"${answer.placeholder}"`) }))
      .filter((f) => f.at >= 0)
      .sort((a, b) => a.at - b.at);
    const parts: Buffer[] = [];
    let from = 0;
    for (const { answer, at } of found) {
      parts.push(body.subarray(from, at), answer.json);
      from = at + answer.placeholder.length + 2;
    }
    parts.push(body.subarray(from));
    return Buffer.concat(parts);
  }
}
