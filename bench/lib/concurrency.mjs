// Bounded concurrency for setup and cleanup work.

/**
 * Runs `work(item, index)` for every item, at most `limit` at a time, in order of the items.
 * Stops starting new items once `signal` is aborted. Resolves with one
 * `{ ok: true, value } | { ok: false, error }` per item started.
 */
export async function mapLimit(items, limit, work, { signal } = {}) {
  const outcomes = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const index = next++;
      try {
        outcomes[index] = { ok: true, value: await work(items[index], index) };
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return outcomes;
}
