import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DataVersion, dataVersionOf } from "../src/view/data-version.ts";
import { cachedReviewView } from "../src/view/view-cache.ts";
import { startTestApi, type TestApi } from "../src/testing.ts";

// The review's built view is kept per data version: reused while nothing is written, rebuilt after any commit,
// including writes that never pass through the api (the CLI's ingest, another replica), which clear nothing here.
// data-version.test.ts checks how soon each kind of write moves the version (an api write: before it is acknowledged).
let api: TestApi;
const SLUG = "subnet-102-status-review";

beforeAll(async () => {
  // No response cache: every read reaches the review router and its view cache.
  api = await startTestApi({ cacheTtlMs: 0 });
  // Going live moves the version once; the tests below start after it.
  await vi.waitFor(() => expect(dataVersionOf(api.db).notified).toBe(true), { timeout: 5_000 });
});
afterAll(async () => {
  await api?.stop();
});

const setTitle = (title: string) => api.db.$executeRaw`UPDATE "Review" SET "title" = ${title} WHERE "slug" = ${SLUG}`;

describe("the review view cache", () => {
  it("answers the same built view until the data version moves", async () => {
    const first = await cachedReviewView(api.db, SLUG);
    expect(await cachedReviewView(api.db, SLUG)).toBe(first);
    // Another experiment is another view.
    expect(await cachedReviewView(api.db, SLUG, "no-such-experiment")).not.toBe(first);
    const version = await dataVersionOf(api.db).current();
    await setTitle("Retitled beside the api");
    await vi.waitFor(async () => expect(await dataVersionOf(api.db).current()).not.toBe(version), { timeout: 2_000 });
    const after = await cachedReviewView(api.db, SLUG);
    expect(after).not.toBe(first);
    expect(after!.title).toBe("Retitled beside the api");
    expect(await cachedReviewView(api.db, "no-such-review")).toBeNull();
  });

  it("answers review.dataVersion, a token that stays while nothing is written and moves with a write", async () => {
    const client = api.client();
    const before = await client.review.dataVersion.query();
    expect(before).toEqual({ version: expect.any(String) });
    expect(await client.review.dataVersion.query()).toEqual(before);
    await setTitle("Retitled for the version");
    await vi.waitFor(async () => expect((await client.review.dataVersion.query()).version).not.toBe(before.version), { timeout: 2_000 });
  });

  it("answers each read of a batch with its own serialised answer, whatever order they finish in", async () => {
    const client = api.client();
    // One batched request; the version answers at once, the other experiment's view is built first.
    const [view, version, list, again] = await Promise.all([
      client.review.bySlug.query({ slug: SLUG, experiment: "batch-order" }),
      client.review.dataVersion.query(),
      client.review.list.query(),
      client.review.bySlug.query({ slug: SLUG }),
    ]);
    expect(view.slug).toBe(SLUG);
    expect(view).toEqual(await client.review.bySlug.query({ slug: SLUG, experiment: "batch-order" }));
    expect(version).toEqual({ version: await dataVersionOf(api.db).current() });
    expect(list.map((r) => r.slug)).toContain(SLUG);
    expect(again).toEqual(await client.review.bySlug.query({ slug: SLUG }));
  });

  it("without notifications, shares one version read among the readers that arrive while one is in flight", async () => {
    let queries = 0;
    const counting = new Proxy(api.db, {
      get(target, prop, receiver) {
        if (prop !== "$queryRaw") return Reflect.get(target, prop, receiver);
        return (...args: Parameters<typeof target.$queryRaw>) => {
          queries++;
          return target.$queryRaw(...args);
        };
      },
    });
    // Not retained by a server: no listener, so each call asks the database.
    const version = new DataVersion(counting);
    const versions = await Promise.all(Array.from({ length: 50 }, () => version.current()));
    expect(new Set(versions).size).toBeLessThanOrEqual(2);
    // the first caller's query and the one every later caller waits for
    expect(queries).toBe(2);
  });
});
