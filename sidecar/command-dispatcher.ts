/**
 * Routes each decoded frame to the server: validation failures become
 * `error` events and the sidecar keeps serving.
 */
import { isUtf8 } from 'node:buffer';
import { Command, ErrorCode, Event } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';
import { unpackValue } from '../protocol/msgpack.js';
import { parseCommand } from './command-parser.js';
import type { SidecarServer } from './sidecar-server.js';

export class CommandDispatcher {
  private readonly server: SidecarServer;
  private readonly emit: (event: AnyEvent) => void;

  constructor(server: SidecarServer, emit: (event: AnyEvent) => void) {
    this.server = server;
    this.emit = emit;
  }

  /** Handles one frame body. Never throws for bad input. */
  dispatchFrame(body: Uint8Array): void {
    const send = parseSendFast(body);
    if (send !== undefined) {
      this.server.sendBytes(send.clientId, send.data, send.binary);
      return;
    }
    let value: unknown;
    try {
      value = unpackValue(body);
    } catch (error) {
      this.emit([Event.ERROR, ErrorCode.MALFORMED_COMMAND, `a ${body.length}-byte frame is not valid MessagePack (${(error as Error).message})`, 0]);
      return;
    }
    const parsed = parseCommand(value);
    if (!parsed.ok) {
      this.emit([Event.ERROR, parsed.code, parsed.message, 0]);
      return;
    }
    const command = parsed.command;
    const server = this.server;
    switch (command[0]) {
      case Command.START:
        server.start(command[1], command[2] as Record<string, unknown>);
        break;
      case Command.STOP:
        void server.stop();
        break;
      case Command.SEND_TEXT:
        server.sendText(command[1], command[2]);
        break;
      case Command.SEND_BINARY:
        server.sendBinary(command[1], command[2]);
        break;
      case Command.BROADCAST_TEXT:
      case Command.BROADCAST_BINARY:
        server.broadcast(command[1], command[2]);
        break;
      case Command.JOIN_ROOM:
        server.joinRoom(command[1], command[2]);
        break;
      case Command.LEAVE_ROOM:
        server.leaveRoom(command[1], command[2]);
        break;
      case Command.ROOM_TEXT:
      case Command.ROOM_BINARY:
        server.broadcastToRoom(command[1], command[2], command[3]);
        break;
      case Command.DISCONNECT:
        server.disconnect(command[1], command[2], command[3]);
        break;
      case Command.ACCEPT:
        server.accept(command[1], command[2]);
        break;
      case Command.REJECT:
        server.reject(command[1], command[2], command[3]);
        break;
      case Command.PING:
        this.emit([Event.PONG, command[1]]);
        break;
      case Command.GET_STATS:
        this.emit([Event.STATS, command[1], server.stats()]);
        break;
    }
  }
}

/**
 * The hot commands, `[3, client_id, str]` (send_text) and `[4, client_id, bin]` (send_binary),
 * read straight from the frame: the payload is handed on as a view of the frame's bytes, with no
 * msgpack decode, no UTF-8 decode and re-encode, and no copy. Anything else (other header
 * forms, extra elements, text that is not UTF-8) returns undefined and takes the general path,
 * which validates and reports exactly as before.
 */
export function parseSendFast(body: Uint8Array): { clientId: number; data: Uint8Array; binary: boolean } | undefined {
  if (body.length < 4 || body[0] !== 0x93) return undefined;
  const op = body[1];
  if (op !== Command.SEND_TEXT && op !== Command.SEND_BINARY) return undefined;
  let at = 2;
  let clientId: number;
  const idByte = body[at++]!;
  if (idByte < 0x80) {
    clientId = idByte;
  } else if (idByte === 0xcc) {
    clientId = body[at++]!;
  } else if (idByte === 0xcd) {
    clientId = (body[at]! << 8) | body[at + 1]!;
    at += 2;
  } else if (idByte === 0xce) {
    clientId = body[at]! * 0x1000000 + ((body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!);
    at += 4;
  } else {
    return undefined;
  }
  if (at >= body.length) return undefined;
  const h = body[at++]!;
  let n: number;
  if (op === Command.SEND_TEXT) {
    if (h >= 0xa0 && h <= 0xbf) {
      n = h & 0x1f;
    } else if (h === 0xd9) {
      n = body[at++]!;
    } else if (h === 0xda) {
      n = (body[at]! << 8) | body[at + 1]!;
      at += 2;
    } else if (h === 0xdb) {
      n = body[at]! * 0x1000000 + ((body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!);
      at += 4;
    } else {
      return undefined;
    }
  } else if (h === 0xc4) {
    n = body[at++]!;
  } else if (h === 0xc5) {
    n = (body[at]! << 8) | body[at + 1]!;
    at += 2;
  } else if (h === 0xc6) {
    n = body[at]! * 0x1000000 + ((body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!);
    at += 4;
  } else {
    return undefined;
  }
  // Exactly the payload must remain: a truncated frame or extra elements take the general path.
  if (at + n !== body.length) return undefined;
  const data = body.subarray(at);
  if (op === Command.SEND_TEXT && !isUtf8(data)) return undefined;
  return { clientId, data, binary: op === Command.SEND_BINARY };
}
