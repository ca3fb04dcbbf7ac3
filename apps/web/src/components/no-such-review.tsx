import type { ReviewList } from "../lib/api";

/** An unknown review: say so and list the reviews there are (null: the list is unavailable). */
export function NoSuchReview({ reviews }: { reviews: ReviewList | null }) {
  return (
    <main>
      <h1>No such review</h1>
      <p>There is no review at this address.</p>
      {reviews && reviews.length > 0 ? (
        <>
          <h2>Reviews</h2>
          <ul data-list="reviews">
            {reviews.map((r) => (
              <li key={r.slug}>
                <a href={`/r/${r.slug}`}>{r.title}</a> · subnet {r.subnet.netuid} · {r.modelConfig.name}
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
