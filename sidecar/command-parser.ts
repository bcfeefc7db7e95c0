/**
 * Checks an untrusted decoded frame (from `protocol/strict-decoder.ts`) against the command shapes
 * in PROTOCOL.md. Returns the typed command, or a code and a message saying what is wrong so the
 * sidecar can answer with an `error` event and keep serving.
 */
import { Command } from '../protocol/constants.js';
import type { AnyCommand } from '../protocol/messages.js';
import { isWireMap, NotUtf8, WireFloat } from '../protocol/strict-decoder.js';

/** `token` is an int echoed exactly (a bigint past 2^53); every other `int` is read as a number. */
type Kind = 'int' | 'token' | 'str' | 'bin' | 'map';

interface Shape {
  name: string;
  args: Kind[];
  /** The arguments' names in PROTOCOL.md, for messages about one of them. */
  names: string[];
}

function shape(name: string, ...args: Array<`${string}:${Kind}`>): Shape {
  return { name, args: args.map((arg) => arg.split(':')[1] as Kind), names: args.map((arg) => arg.split(':')[0]!) };
}

const SHAPES: Record<number, Shape> = {
  [Command.START]: shape('start', 'protocol_version:int', 'options:map'),
  [Command.STOP]: shape('stop'),
  [Command.SEND_TEXT]: shape('send_text', 'client_id:int', 'text:str'),
  [Command.SEND_BINARY]: shape('send_binary', 'client_id:int', 'data:bin'),
  [Command.BROADCAST_TEXT]: shape('broadcast_text', 'text:str', 'exclude:int'),
  [Command.BROADCAST_BINARY]: shape('broadcast_binary', 'data:bin', 'exclude:int'),
  [Command.JOIN_ROOM]: shape('join_room', 'client_id:int', 'room:str'),
  [Command.LEAVE_ROOM]: shape('leave_room', 'client_id:int', 'room:str'),
  [Command.ROOM_TEXT]: shape('room_text', 'room:str', 'text:str', 'exclude:int'),
  [Command.ROOM_BINARY]: shape('room_binary', 'room:str', 'data:bin', 'exclude:int'),
  [Command.DISCONNECT]: shape('disconnect', 'client_id:int', 'code:int', 'reason:str'),
  [Command.ACCEPT]: shape('accept', 'request_id:int', 'subprotocol:str'),
  [Command.REJECT]: shape('reject', 'request_id:int', 'http_status:int', 'reason:str'),
  [Command.PING]: shape('ping', 'token:token'),
  [Command.GET_STATS]: shape('get_stats', 'token:token'),
  [Command.REQUEST_ROOM_MEMBERS]: shape('request_room_members', 'token:int', 'room:str'),
  [Command.REQUEST_CLUSTER_STATS]: shape('request_cluster_stats', 'token:int'),
  [Command.SHUTDOWN]: shape('shutdown'),
};

export type ParseResult =
  | { ok: true; command: AnyCommand }
  | { ok: false; code: 'malformed_command' | 'unknown_command' | 'invalid_argument'; message: string };

function isInteger(value: unknown): value is number | bigint {
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
}

function matches(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'int':
    case 'token':
      return isInteger(value);
    case 'str':
      // Not UTF-8 is the right type with a wrong value: checked after the types, as invalid_argument.
      return typeof value === 'string' || value instanceof NotUtf8;
    case 'bin':
      return value instanceof Uint8Array;
    case 'map':
      return isWireMap(value);
  }
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (value instanceof Uint8Array) return 'bin';
  if (Array.isArray(value)) return 'array';
  if (value instanceof WireFloat) return 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string' || value instanceof NotUtf8) return 'str';
  if (typeof value === 'boolean') return 'bool';
  return 'map';
}

const kindName = (kind: Kind): string => (kind === 'token' ? 'int' : kind);

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
  const { name, args, names } = shape;
  if (value.length < args.length + 1) {
    return { ok: false, code: 'malformed_command', message: `${name} takes ${args.length} argument(s) (${args.map(kindName).join(', ')}), got ${value.length - 1}` };
  }
  let command = value;
  for (let i = 0; i < args.length; i++) {
    const arg: unknown = value[i + 1];
    if (!matches(arg, args[i]!)) {
      return { ok: false, code: 'malformed_command', message: `${name} argument ${i + 1} must be ${kindName(args[i]!)}, got ${kindOf(arg)}` };
    }
    // An id, code or status past 2^53 names nothing that exists and fails every range check, as its
    // nearest double does; only tokens come back, and they come back exact.
    if (typeof arg === 'bigint' && args[i] === 'int') {
      if (command === value) command = [...value];
      command[i + 1] = Number(arg);
    }
  }
  for (let i = 0; i < args.length; i++) {
    if (value[i + 1] instanceof NotUtf8) {
      return { ok: false, code: 'invalid_argument', message: `${name} argument ${i + 1} (${names[i]}) is not valid UTF-8: the command was not carried out` };
    }
  }
  return { ok: true, command: command as AnyCommand };
}
