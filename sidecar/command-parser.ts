/**
 * Checks an untrusted decoded frame against the command shapes in
 * PROTOCOL.md. Returns the typed command, or a message saying what is wrong
 * so the sidecar can answer with an `error` event and keep serving.
 */
import { Command } from '../protocol/constants.js';
import type { AnyCommand } from '../protocol/messages.js';

type Kind = 'int' | 'str' | 'bin' | 'map';

const SHAPES: Record<number, { name: string; args: Kind[] }> = {
  [Command.START]: { name: 'start', args: ['int', 'map'] },
  [Command.STOP]: { name: 'stop', args: [] },
  [Command.SEND_TEXT]: { name: 'send_text', args: ['int', 'str'] },
  [Command.SEND_BINARY]: { name: 'send_binary', args: ['int', 'bin'] },
  [Command.BROADCAST_TEXT]: { name: 'broadcast_text', args: ['str', 'int'] },
  [Command.BROADCAST_BINARY]: { name: 'broadcast_binary', args: ['bin', 'int'] },
  [Command.JOIN_ROOM]: { name: 'join_room', args: ['int', 'str'] },
  [Command.LEAVE_ROOM]: { name: 'leave_room', args: ['int', 'str'] },
  [Command.ROOM_TEXT]: { name: 'room_text', args: ['str', 'str', 'int'] },
  [Command.ROOM_BINARY]: { name: 'room_binary', args: ['str', 'bin', 'int'] },
  [Command.DISCONNECT]: { name: 'disconnect', args: ['int', 'int', 'str'] },
  [Command.ACCEPT]: { name: 'accept', args: ['int', 'str'] },
  [Command.REJECT]: { name: 'reject', args: ['int', 'int', 'str'] },
  [Command.PING]: { name: 'ping', args: ['int'] },
  [Command.GET_STATS]: { name: 'get_stats', args: ['int'] },
  [Command.SHUTDOWN]: { name: 'shutdown', args: [] },
};

export type ParseResult =
  | { ok: true; command: AnyCommand }
  | { ok: false; code: 'malformed_command' | 'unknown_command'; message: string };

function matches(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'str':
      return typeof value === 'string';
    case 'bin':
      return value instanceof Uint8Array;
    case 'map':
      return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
  }
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (value instanceof Uint8Array) return 'bin';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  return 'map';
}

/** Validates one decoded frame value. Extra trailing elements are allowed (PROTOCOL.md). */
export function parseCommand(value: unknown): ParseResult {
  if (!Array.isArray(value) || value.length === 0) {
    return { ok: false, code: 'malformed_command', message: `a command must be an array starting with its opcode, got ${kindOf(value)}` };
  }
  const op = value[0] as unknown;
  if (typeof op !== 'number' || !Number.isInteger(op)) {
    return { ok: false, code: 'malformed_command', message: `a command's first element must be an integer opcode, got ${kindOf(op)}` };
  }
  const shape = SHAPES[op];
  if (shape === undefined) {
    const hint = op >= 64 && op <= 127 ? ' (that is an event opcode: events flow from the sidecar to the host)' : '';
    return { ok: false, code: 'unknown_command', message: `unknown command opcode ${op}${hint}` };
  }
  if (value.length < shape.args.length + 1) {
    return {
      ok: false,
      code: 'malformed_command',
      message: `${shape.name} takes ${shape.args.length} argument(s) (${shape.args.join(', ')}), got ${value.length - 1}`,
    };
  }
  for (let i = 0; i < shape.args.length; i++) {
    const kind = shape.args[i]!;
    if (!matches(value[i + 1], kind)) {
      return {
        ok: false,
        code: 'malformed_command',
        message: `${shape.name} argument ${i + 1} must be ${kind}, got ${kindOf(value[i + 1])}`,
      };
    }
  }
  return { ok: true, command: value as AnyCommand };
}
