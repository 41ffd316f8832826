/**
 * Runs `step` (one batch of at most `batchSize` rows, one short statement) again and again
 * until a batch comes back short, so no statement holds a huge lock set; returns the total.
 * Stops early when `signal` aborts. The shape of every batched maintenance loop: dead-letter
 * replay and purge, cleanup, parking.
 *
 * @example
 * const replayed = await repeatUntilShort(5000, () => store.replayBatch(run, filter, { limit: 5000 }));
 */
export async function repeatUntilShort(
  batchSize: number,
  step: () => Promise<number>,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const n = await step();
    total += n;
    if (n < batchSize) break;
  }
  return total;
}
