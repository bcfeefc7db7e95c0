/** The `qs` quantiles (0–1) of `samples` by nearest rank below, NaN when there are none. Sorts `samples` in place. */
export function quantiles(samples: number[], ...qs: number[]): number[] {
  samples.sort((a, b) => a - b);
  return qs.map((q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN);
}
