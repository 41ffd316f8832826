/** A job result's counts, as log fields and as words. */
export interface JobSummary {
  /** The result's own numeric properties (`{ delivered: 5, dead: 0 }`); empty for other results. */
  readonly counts: Record<string, number>;
  /** `: delivered 5, dead 0`, or `''` when the result has no counts. */
  readonly text: string;
}

/**
 * The counts of a job's result for its one summary log line (seed 004's
 * `[Job:Outbox] processed 5, failed 0`): every finite number among the result's own properties.
 *
 * @example
 * jobSummary({ deleted: 142, batches: 1, retentionDays: 30 }).text // ': deleted 142, batches 1, retentionDays 30'
 */
export function jobSummary(result: unknown): JobSummary {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return { counts: {}, text: '' };
  const counts: Record<string, number> = {};
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === 'number' && Number.isFinite(value)) counts[key] = value;
  }
  const words = Object.entries(counts).map(([key, value]) => `${key} ${value}`);
  return { counts, text: words.length > 0 ? `: ${words.join(', ')}` : '' };
}
