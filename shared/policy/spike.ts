// Raygun's spike protection rule: per app and minute, accept at most max(50, 5 × the average
// per-minute accepted rate over the past 24 h); the rest of that minute is rejected with 429.

/** Floor of the limit, so a quiet project can still burst. */
export const SPIKE_FLOOR_PER_MINUTE = 50;
/** How many times the 24 h average a minute may reach. */
export const SPIKE_FACTOR = 5;

/**
 * @example spikeLimit(0) // 50
 * @example spikeLimit(30.2) // 151
 */
export function spikeLimit(avgPerMinuteOver24h: number): number {
  const avg = Number.isFinite(avgPerMinuteOver24h) && avgPerMinuteOver24h > 0 ? avgPerMinuteOver24h : 0;
  return Math.max(SPIKE_FLOOR_PER_MINUTE, Math.ceil(SPIKE_FACTOR * avg));
}
