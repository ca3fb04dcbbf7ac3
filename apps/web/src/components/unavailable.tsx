/** The page when the api cannot answer and no earlier answer is kept: a plain explanation, not a stack trace. */
export function Unavailable() {
  return (
    <main>
      <h1>Subnet Status Review</h1>
      <p className="stale" role="status">
        The review&apos;s data is unavailable: the api is unreachable and this server has no earlier copy to show. Try again in a minute.
      </p>
    </main>
  );
}
