/**
 * Readings of the process itself for `stats`. Each returns null instead of throwing when the
 * process is short of what the reading needs: `stats` is always answered (PROTOCOL.md).
 */

/**
 * The resident set size, or null when it cannot be read: Node reads it from /proc/self/stat,
 * which needs a free file descriptor, and threw EMFILE (an uncaught crash) at the fd limit.
 */
export function readRss(): number | null {
  try {
    return process.memoryUsage.rss();
  } catch {
    return null;
  }
}
