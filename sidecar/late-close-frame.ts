/**
 * The client's close frame after a protocol error. Once its receiver failed, ws stops parsing what
 * the client sends (it drains the socket into nowhere), so the close frame a conforming client
 * answers the sidecar's 1002/1007/1008/1009 with is never seen, and the client would be reported
 * as if it had vanished (`clean` false). This scanner walks the frames that still arrive, skipping
 * payloads without keeping them, and reports the first close frame.
 *
 * The walk starts at the first chunk after the error. The frame that broke the protocol was read
 * whole, or ws would not have judged it, and a client answers our close after that, so the walk
 * is aligned on frame boundaries in every case that matters; if it is not, the worst outcome is a
 * `clean` flag that stays false.
 */
import type { Socket } from 'node:net';

/** A frame header is at most 14 bytes: 2, then up to 8 of length, then a 4-byte mask. */
const MAX_HEADER_BYTES = 14;
const OPCODE_CLOSE = 0x8;

/** Calls `onCloseFrame` once, when a complete close frame arrives on `socket`. */
export function watchForCloseFrame(socket: Socket, onCloseFrame: () => void): void {
  let header = Buffer.alloc(0);
  let skip = 0;
  const onData = (chunk: Buffer): void => {
    let at = 0;
    while (at < chunk.length) {
      if (skip > 0) {
        const step = Math.min(skip, chunk.length - at);
        skip -= step;
        at += step;
        continue;
      }
      const need = MAX_HEADER_BYTES + 125 - header.length;
      header = Buffer.concat([header, chunk.subarray(at, at + need)]);
      const frame = parseHeader(header);
      if (frame === undefined) return; // the header continues in the next chunk
      if (frame.opcode === OPCODE_CLOSE) {
        if (header.length < frame.headerBytes + frame.payloadBytes) return; // wait for the payload too
        socket.off('data', onData);
        onCloseFrame();
        return;
      }
      const taken = Math.min(need, chunk.length - at);
      // Bytes of this chunk past the header belong to the payload (or to later frames).
      at += taken - (header.length - frame.headerBytes);
      skip = frame.payloadBytes;
      header = Buffer.alloc(0);
    }
  };
  socket.on('data', onData);
}

interface FrameHeader {
  opcode: number;
  headerBytes: number;
  payloadBytes: number;
}

/** The header at the start of `bytes`, or undefined while it is incomplete. */
function parseHeader(bytes: Buffer): FrameHeader | undefined {
  if (bytes.length < 2) return undefined;
  const opcode = bytes.readUInt8(0) & 0x0f;
  const masked = (bytes.readUInt8(1) & 0x80) !== 0;
  const length7 = bytes.readUInt8(1) & 0x7f;
  const lengthBytes = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  const headerBytes = 2 + lengthBytes + (masked ? 4 : 0);
  if (bytes.length < headerBytes) return undefined;
  const payloadBytes =
    lengthBytes === 0 ? length7 : lengthBytes === 2 ? bytes.readUInt16BE(2) : bytes.readUInt32BE(2) * 2 ** 32 + bytes.readUInt32BE(6);
  return { opcode, headerBytes, payloadBytes };
}
