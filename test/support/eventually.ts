/** Waiting on an asynchronous condition, such as a presence query that must come true. */

/** Polls `predicate` every 20 ms until it resolves true; rejects after `timeoutMs` naming `what`. */
export async function untilAsync(predicate: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
