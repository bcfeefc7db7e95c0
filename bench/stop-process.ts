/** Ends a server process: EOF on stdin and SIGTERM, then SIGKILL if it is still there after `killAfterMs`. */
import type { ChildProcess } from 'node:child_process';

export async function stopProcess(proc: ChildProcess, killAfterMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.stdin?.end();
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}
