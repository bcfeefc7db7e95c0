/**
 * Logging for the sidecar: stdout is reserved for frames, so every line goes
 * to stderr with its level first (PROTOCOL.md, "Transport"). The addon
 * forwards `error:` lines to Godot's `push_error` and the rest to Output.
 */
export type LogLevel = 'error' | 'warn' | 'info';

export type Logger = (level: LogLevel, message: string) => void;

/** Writes `level: message` lines to stderr, one line per call. */
export const stderrLogger: Logger = (level, message) => {
  process.stderr.write(`${level}: ${message.replace(/\r?\n/g, ' ')}\n`);
};
