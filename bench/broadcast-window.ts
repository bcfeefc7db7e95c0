/**
 * The throughput measure of the broadcast scenarios (bench/loadgen.ts against any target,
 * bench/cluster.ts across sidecars): keep `window` rounds of a broadcast in flight, count the
 * deliveries at every receiving client, and report how many arrived during the measured span.
 * A round counts as done once all of its deliveries arrived, so the server under test, not a
 * fixed send rate, sets the pace.
 */
import type { LeanClient } from './lean-client.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface BroadcastWindow {
  /** The receivers; their `onMessages` is taken over. */
  clients: LeanClient[];
  /** Sends one round. */
  sendRound: () => void;
  /** Deliveries one round makes: messages per round × receivers. */
  perRound: number;
  /** Rounds kept in flight. */
  window: number;
  /** Time before counting starts, in ms. */
  warmupMs: number;
  /** The measured span, in ms. */
  durationMs: number;
  /** Called as the measured span starts (after warm-up), e.g. to read CPU counters. */
  onMeasureStart?: () => void;
  /** Called as it ends, with its length in seconds. */
  onMeasureEnd?: (elapsedS: number) => void;
}

export interface BroadcastCount {
  /** Deliveries counted during the measured span. */
  counted: number;
  /** Its length in seconds. */
  elapsedS: number;
  /** Rounds sent in all. */
  rounds: number;
}

/** Runs the window until the span ends and the rounds in flight arrived (10 s at the most). */
export async function measureBroadcastWindow(run: BroadcastWindow): Promise<BroadcastCount> {
  let total = 0;
  let counted = 0;
  let counting = false;
  let rounds = 0;
  let stopped = false;
  let elapsedS = 0;
  const { perRound, window } = run;
  const trigger = (): void => {
    rounds++;
    run.sendRound();
  };
  await new Promise<void>((resolve) => {
    for (const client of run.clients) {
      client.onMessages = (n) => {
        total += n;
        if (counting) counted += n;
        while (!stopped && rounds - Math.floor(total / perRound) < window) trigger();
        if (stopped && total >= rounds * perRound) resolve();
      };
    }
    for (let i = 0; i < window; i++) trigger();
    void (async () => {
      await sleep(run.warmupMs);
      counting = true;
      run.onMeasureStart?.();
      const t0 = performance.now();
      await sleep(run.durationMs);
      elapsedS = (performance.now() - t0) / 1000;
      run.onMeasureEnd?.(elapsedS);
      counting = false;
      stopped = true;
      setTimeout(resolve, 10_000);
      if (total >= rounds * perRound) resolve();
    })();
  });
  return { counted, elapsedS, rounds };
}
