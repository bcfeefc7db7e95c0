/**
 * Close codes: which ones a host may send, and which one answers a given
 * protocol violation by a client.
 */
import { statusCodeOf } from './ws-internals.js';

/** RFC 6455 §5.5: a close frame's payload, code included, is at most 125 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/** RFC 6455 §7.4: the codes an endpoint may put in a close frame it starts. */
export function isValidCloseCode(code: number): boolean {
  return code === 1000 || (code >= 3000 && code <= 4999);
}

/** Why the host cannot close a client with `code` and `reason`; undefined when it can. */
export function closeArgumentProblem(code: number, reason: string): string | undefined {
  if (!isValidCloseCode(code)) return `close code ${code} cannot be sent: use 1000 or a code from 3000 to 4999`;
  const bytes = Buffer.byteLength(reason);
  if (bytes > MAX_CLOSE_REASON_BYTES) return `close reason is ${bytes} bytes; the limit is ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`;
  return undefined;
}

/**
 * ws tags the errors its receiver raises with the status code it closes the
 * connection with (ws-internals.ts); fall back to ws's error codes when the
 * tag is not there.
 */
const CODE_BY_WS_ERROR: Record<string, number> = {
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
};

/** The close code the sidecar reports for a client error raised by ws. */
export function closeCodeForError(error: Error & { code?: string }): number {
  const tagged = statusCodeOf(error);
  if (tagged !== undefined) return tagged;
  if (error instanceof RangeError && /max payload size exceeded/i.test(error.message)) return 1009;
  return CODE_BY_WS_ERROR[error.code ?? ''] ?? 1002;
}
