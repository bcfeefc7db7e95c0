/**
 * Requests waiting for the sidecar's answer (`start` for `listening` or
 * `start_failed`, `stop` for `stopped`, `ping` for `pong`, `get_stats` for
 * `stats`), in one table. When the sidecar is gone every one of them fails,
 * and so does every later request, so no caller waits forever (as esbuild's
 * stdio service fails its pending callbacks when the child exits).
 */

interface Waiter {
  /** The command being answered, for the error message. */
  what: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** Builds the error a request fails with; `pending` is true for requests sent before the sidecar was gone. */
export type GoneError = (what: string, pending: boolean) => Error;

export class PendingReplies {
  /** Waiters by reply key (`start`, `stop`, `ping:<token>`, ...), oldest first: the sidecar answers in order. */
  private readonly waiters = new Map<string, Waiter[]>();
  private goneError: GoneError | undefined;

  /**
   * Registers a wait for the reply under `key`, then calls `send`. Resolves with the value given to
   * `settle`; rejects with the error given there, or once `failAll` runs.
   */
  wait<T>(key: string, what: string, send: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.goneError !== undefined) {
        reject(this.goneError(what, false));
        return;
      }
      const list = this.waiters.get(key);
      const waiter: Waiter = { what, resolve: resolve as (value: unknown) => void, reject };
      if (list === undefined) this.waiters.set(key, [waiter]);
      else list.push(waiter);
      send();
    });
  }

  /** Settles the oldest wait under `key` with `outcome` (an Error rejects). Returns false when none waits. */
  settle(key: string, outcome: unknown): boolean {
    const list = this.waiters.get(key);
    const waiter = list?.shift();
    if (waiter === undefined) return false;
    if (list!.length === 0) this.waiters.delete(key);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
    return true;
  }

  /** Fails every wait, now and from now on, with the error `gone` builds. */
  failAll(gone: GoneError): void {
    this.goneError = gone;
    const lists = [...this.waiters.values()];
    this.waiters.clear();
    for (const list of lists) for (const waiter of list) waiter.reject(gone(waiter.what, true));
  }
}
