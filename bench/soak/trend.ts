/**
 * Growth of a counter over cycles: the least-squares slope over the second half of the
 * samples (the first half is the warm-up's tail: caches, lazily made threads, the heap
 * finding its size), and the totals.
 *
 * @module
 */

/** How one counter moved over a run. */
export interface Trend {
  /** Value after the warm-up (the first sample). */
  first: number;
  /** Value at the middle sample (where the slope starts). */
  middle: number;
  /** Value after the last cycle. */
  last: number;
  /** Highest value seen. */
  max: number;
  /** Least-squares slope over the second half, per cycle. */
  slope: number;
}

/** Least-squares slope of `ys` against their index. */
export function slope(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - meanX) * (ys[i] - meanY);
    den += (i - meanX) ** 2;
  }
  return num / den;
}

/** The trend of one series of samples, one per cycle (index 0 taken after the warm-up). */
export function trend(ys: number[]): Trend {
  const mid = Math.floor(ys.length / 2);
  return {
    first: ys[0],
    middle: ys[mid],
    last: ys[ys.length - 1],
    max: Math.max(...ys),
    slope: slope(ys.slice(mid)),
  };
}

/**
 * When a counter counts as grown. `exact` counters (fds, mounts, cgroups, state,
 * processes) must end where the second half began and have a slope of 0: any object left
 * per cycle shows. `slopeLimit` bounds a noisy counter's slope (threads, RSS), and
 * `endLimit` how far its last value may sit above the middle one.
 */
export interface Tolerance {
  /** Largest allowed slope per cycle. */
  slopeLimit: number;
  /** Largest allowed `last - middle`. */
  endLimit: number;
}

/** The tolerance that allows nothing. */
export const EXACT: Tolerance = { slopeLimit: 0, endLimit: 0 };

/** Whether a trend shows growth beyond its tolerance. */
export function grew(t: Trend, tolerance: Tolerance): boolean {
  return t.slope > tolerance.slopeLimit + 1e-9 || t.last - t.middle > tolerance.endLimit;
}
