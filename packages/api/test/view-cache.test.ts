import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataVersionOf } from "../src/view/data-version.ts";
import { cachedReviewView } from "../src/view/view-cache.ts";
import { startTestApi, type TestApi } from "../src/testing.ts";

// The review's built view is kept per data version: reused while nothing is written, rebuilt after any commit,
// including writes that never pass through the api (the CLI's ingest, another replica), which clear nothing here.
let api: TestApi;
const SLUG = "subnet-102-status-review";

beforeAll(async () => {
  // No response cache: every read reaches the review router and its view cache.
  api = await startTestApi({ cacheTtlMs: 0 });
});
afterAll(async () => {
  await api?.stop();
});

const setTitle = (title: string) => api.db.$executeRaw`UPDATE "Review" SET "title" = ${title} WHERE "slug" = ${SLUG}`;

describe("the review view cache", () => {
  it("answers the same built view until a commit changes the data version", async () => {
    const first = await cachedReviewView(api.db, SLUG);
    expect(await cachedReviewView(api.db, SLUG)).toBe(first);
    // Another experiment is another view.
    expect(await cachedReviewView(api.db, SLUG, "no-such-experiment")).not.toBe(first);
    await setTitle("Retitled beside the api");
    const after = await cachedReviewView(api.db, SLUG);
    expect(after).not.toBe(first);
    expect(after!.title).toBe("Retitled beside the api");
    expect(await cachedReviewView(api.db, "no-such-review")).toBeNull();
  });

  it("never answers a view older than a write acknowledged before the read began", async () => {
    const client = api.client();
    for (let i = 0; i < 25; i++) {
      await setTitle(`title ${i}`);
      // Several readers at once share version reads and builds; each still sees the write.
      const views = await Promise.all([1, 2, 3].map(() => client.review.bySlug.query({ slug: SLUG })));
      expect(views.map((v) => v.title)).toEqual([`title ${i}`, `title ${i}`, `title ${i}`]);
    }
  });

  it("answers review.dataVersion, a token that changes with each committed write", async () => {
    const client = api.client();
    const before = await client.review.dataVersion.query();
    expect(before).toEqual({ version: expect.any(String) });
    expect(await client.review.dataVersion.query()).toEqual(before);
    await setTitle("Retitled for the version");
    const after = await client.review.dataVersion.query();
    expect(after.version).not.toBe(before.version);
  });

  it("shares one version read among the readers that arrive while one is in flight", async () => {
    let queries = 0;
    const counting = new Proxy(api.db, {
      get(target, prop, receiver) {
        if (prop === "$queryRaw") return (...args: Parameters<typeof target.$queryRaw>) => (queries++, target.$queryRaw(...args));
        return Reflect.get(target, prop, receiver);
      },
    });
    const version = dataVersionOf(counting);
    const versions = await Promise.all(Array.from({ length: 50 }, () => version.current()));
    expect(new Set(versions).size).toBeLessThanOrEqual(2);
    // the first caller's query and the one every later caller waits for
    expect(queries).toBe(2);
  });
});
