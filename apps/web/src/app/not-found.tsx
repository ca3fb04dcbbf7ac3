import Link from "next/link";
import { reviewList } from "../lib/last-good";

/** An unknown review: say so and list the reviews there are. */
export default async function NotFound() {
  const list = await reviewList().catch(() => null);
  return (
    <main>
      <h1>No such review</h1>
      <p>There is no review at this address.</p>
      {list && list.data.length > 0 ? (
        <>
          <h2>Reviews</h2>
          <ul data-list="reviews">
            {list.data.map((r) => (
              <li key={r.slug}>
                <Link href={`/r/${r.slug}`}>{r.title}</Link> · subnet {r.subnet.netuid} · {r.modelConfig.name}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p className="note">The list of reviews is unavailable right now.</p>
      )}
    </main>
  );
}
