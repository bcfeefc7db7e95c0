/**
 * Notices that the process which started the sidecar is gone, for when stdin
 * EOF never comes: the host may have passed the write end of our stdin on to
 * processes it started later (Godot's pipes are not close-on-exec), and those
 * outlive a crashed game (PROTOCOL.md, "Transport").
 */

export interface ParentWatchOptions {
  /** How often to look, in milliseconds; default 200. */
  intervalMs?: number;
  /** The parent to watch; default `process.ppid` when the watch starts. */
  parentPid?: number;
  /** Reads the current parent pid; default `() => process.ppid`. A change means Unix re-parented us. */
  readParentPid?: () => number;
  /** Whether a pid names a running process; default: `process.kill(pid, 0)` does not fail with ESRCH. */
  isAlive?: (pid: number) => boolean;
}

const DEFAULTS = {
  intervalMs: 200,
  readParentPid: (): number => process.ppid,
  isAlive: (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: the pid exists but belongs to someone else, so it still runs.
      return (error as NodeJS.ErrnoException).code !== 'ESRCH';
    }
  },
};

/**
 * Calls `onGone` once, at most `intervalMs` after the parent ended: when the
 * parent pid changes (an orphan is re-parented on Unix) or the original parent
 * pid no longer names a process (Windows, which re-parents nobody). The timer
 * does not keep the process alive. Returns a function that stops the watch.
 */
export function watchParent(onGone: () => void, options: ParentWatchOptions = {}): () => void {
  const intervalMs = options.intervalMs ?? DEFAULTS.intervalMs;
  if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new TypeError('intervalMs must be a positive integer');
  const readParentPid = options.readParentPid ?? DEFAULTS.readParentPid;
  const isAlive = options.isAlive ?? DEFAULTS.isAlive;
  const parentPid = options.parentPid ?? readParentPid();
  if (!Number.isInteger(parentPid) || parentPid < 0) throw new TypeError('parentPid must be a non-negative integer');
  const timer = setInterval(() => {
    if (readParentPid() === parentPid && isAlive(parentPid)) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
