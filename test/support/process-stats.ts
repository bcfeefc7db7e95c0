/** Linux process figures read from /proc, for the memory and handle checks. */
import { readFileSync } from 'node:fs';

/** Resident memory of a process in bytes (VmRSS). */
export function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`/proc/${pid}/status has no VmRSS line: is process ${pid} still running?`);
  return Number(match[1]) * 1024;
}
