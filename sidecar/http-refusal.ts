/**
 * The HTTP error answer to an upgrade the sidecar refuses. The status line and body may carry a
 * host's `reject` reason, which connection-requests.ts has already checked; control characters
 * are still replaced here, so nothing reaches the wire that could end a line or start a header.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';

/** Answers an upgrade request with an HTTP error and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, statusText: string): void {
  if (socket.writable) {
    const text = withoutControlCharacters(statusText);
    const body = `${text}\n`;
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? text}\r\n` +
        'Connection: close\r\nContent-Type: text/plain\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Whether `text` holds a character below U+0020 or U+007F (CR and LF among them). */
export function hasControlCharacters(text: string): boolean {
  return CONTROL_CHARACTERS.test(text);
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function withoutControlCharacters(text: string): string {
  return hasControlCharacters(text) ? text.replace(new RegExp(CONTROL_CHARACTERS.source, 'g'), ' ') : text;
}
