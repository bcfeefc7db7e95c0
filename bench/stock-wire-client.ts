/**
 * The load generator's stand-in for Godot's stock `WebSocketMultiplayerPeer` client, for
 * bench/multiplayer.ts: it speaks the stock wire itself (first message: its peer id, 4 bytes
 * little-endian; then one packet per message), so hundreds of clients need no Godot each.
 *
 * It reads whole server messages (the server frames are unmasked and, from ws and from Godot,
 * never fragmented), answers the two things a SceneMultiplayer client must answer for the
 * server's broadcasts to stay broadcasts (a `SIMPLIFY_PATH` with `CONFIRM_PATH`, as
 * scene_cache_interface.cpp does), and hands every other packet to `onPacket`. Frames it sends
 * are masked with one fixed key (see lean-client.ts: fine on loopback, not for real use).
 */
import type { Socket } from 'node:net';
import { openHandshake } from './client-handshake.js';
import { maskedFrame } from './lean-client.js';

const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
/** SceneMultiplayer's commands (scene_multiplayer.h): the low 3 bits of a packet's first byte. */
const NETWORK_COMMAND_SIMPLIFY_PATH = 1;
const NETWORK_COMMAND_CONFIRM_PATH = 2;
/** `SIMPLIFY_PATH`: command byte, the RPC methods' MD5 as 32 hex digits and a NUL, then the uint32 cache id. */
const SIMPLIFY_PATH_ID_OFFSET = 1 + 33;

export class StockWireClient {
  /** The peer id the server sent (0 until then). */
  peerId = 0;
  /** `performance.now()` when the id arrived. */
  idAt = 0;
  /** Called with every packet after the id, path confirmations excepted. */
  onPacket: (packet: Buffer) => void = () => {};
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => {});
  }

  /** Connects and completes the upgrade; the id follows (see `peerId`). Rejects after `timeoutMs`. */
  static open(port: number, timeoutMs: number): Promise<StockWireClient> {
    return openHandshake({ hostname: '127.0.0.1', port, path: '/' }, timeoutMs, (socket, rest) => {
      const client = new StockWireClient(socket);
      socket.on('data', (data: Buffer) => client.read(data));
      if (rest.length > 0) client.read(rest);
      return client;
    });
  }

  /** Sends prebuilt frames (see `maskedFrame`). */
  send(frames: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(frames);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    const data = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      if (data.length - pos < 2) break;
      const opcode = data[pos]! & 0x0f;
      let length = data[pos + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - pos < 4) break;
        length = data.readUInt16BE(pos + 2);
        header = 4;
      } else if (length === 127) {
        if (data.length - pos < 10) break;
        length = Number(data.readBigUInt64BE(pos + 2));
        header = 10;
      }
      if (data.length - pos < header + length) break;
      this.message(opcode, data.subarray(pos + header, pos + header + length));
      pos += header + length;
    }
    this.buffered = pos < data.length ? Buffer.from(data.subarray(pos)) : Buffer.alloc(0);
  }

  private message(opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) this.send(maskedFrame(payload, OP_PONG));
    else if (opcode === OP_CLOSE) this.socket.end();
    else if (this.peerId === 0) {
      if (payload.length === 4) {
        this.peerId = payload.readInt32LE(0);
        this.idAt = performance.now();
      }
    } else if ((payload[0]! & 0x07) === NETWORK_COMMAND_SIMPLIFY_PATH && payload.length >= SIMPLIFY_PATH_ID_OFFSET + 4) {
      const confirm = Buffer.alloc(6);
      confirm[0] = NETWORK_COMMAND_CONFIRM_PATH;
      confirm[1] = 1; // the checksum matched: the bench's node has the same RPCs everywhere
      confirm.writeUInt32LE(payload.readUInt32LE(SIMPLIFY_PATH_ID_OFFSET), 2);
      this.send(maskedFrame(confirm, OP_BINARY));
    } else this.onPacket(payload);
  }
}
