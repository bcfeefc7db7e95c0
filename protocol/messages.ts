/**
 * Types of every command and event in `protocol/PROTOCOL.md`, as tuples in
 * wire order. The sidecar's `command-parser.ts` turns an untrusted decoded
 * value into a command or explains why not.
 */
import type { Command, Event } from './constants.js';
import type { START_OPTIONS } from './start-options.js';

type C = typeof Command;
type E = typeof Event;

/** The value type of each option type of the start-option table. */
interface OptionValue {
  int: number;
  str: string;
  bool: boolean;
  'array of str': string[];
  'map str → str': Record<string, string>;
}

/** Start options, all optional on the wire; keys, types and defaults are `protocol/start-options.ts`'s. */
export type StartOptions = { [O in (typeof START_OPTIONS)[number] as O['key']]?: OptionValue[O['type']] };

export type StartCommand = [C['START'], protocolVersion: number, options: StartOptions];
export type StopCommand = [C['STOP']];
export type SendTextCommand = [C['SEND_TEXT'], clientId: number, text: string];
export type SendBinaryCommand = [C['SEND_BINARY'], clientId: number, data: Uint8Array];
export type BroadcastTextCommand = [C['BROADCAST_TEXT'], text: string, exclude: number];
export type BroadcastBinaryCommand = [C['BROADCAST_BINARY'], data: Uint8Array, exclude: number];
export type JoinRoomCommand = [C['JOIN_ROOM'], clientId: number, room: string];
export type LeaveRoomCommand = [C['LEAVE_ROOM'], clientId: number, room: string];
export type RoomTextCommand = [C['ROOM_TEXT'], room: string, text: string, exclude: number];
export type RoomBinaryCommand = [C['ROOM_BINARY'], room: string, data: Uint8Array, exclude: number];
export type DisconnectCommand = [C['DISCONNECT'], clientId: number, code: number, reason: string];
export type AcceptCommand = [C['ACCEPT'], requestId: number, subprotocol: string];
export type RejectCommand = [C['REJECT'], requestId: number, httpStatus: number, reason: string];
export type PingCommand = [C['PING'], token: number];
export type GetStatsCommand = [C['GET_STATS'], token: number];
export type ShutdownCommand = [C['SHUTDOWN']];

export type AnyCommand =
  | StartCommand
  | StopCommand
  | SendTextCommand
  | SendBinaryCommand
  | BroadcastTextCommand
  | BroadcastBinaryCommand
  | JoinRoomCommand
  | LeaveRoomCommand
  | RoomTextCommand
  | RoomBinaryCommand
  | DisconnectCommand
  | AcceptCommand
  | RejectCommand
  | PingCommand
  | GetStatsCommand
  | ShutdownCommand;

/** What the sidecar learned about a client from its upgrade request. */
export interface ClientInfo {
  address: string;
  port: number;
  path: string;
  query: string;
  headers: Record<string, string>;
  subprotocol: string;
}

/** Counters reported by `stats`. */
export interface Stats {
  clients: number;
  rooms: number;
  pending_requests: number;
  messages_in: number;
  messages_out: number;
  bytes_in: number;
  bytes_out: number;
  rss: number;
  uptime_ms: number;
  paused: boolean;
}

export type HelloEvent = [E['HELLO'], protocolVersion: number, sidecarVersion: string, capabilities: string[]];
export type ListeningEvent = [E['LISTENING'], port: number, host: string, tls: boolean];
export type StartFailedEvent = [E['START_FAILED'], code: string, message: string];
export type StoppedEvent = [E['STOPPED']];
export type ConnectionRequestEvent = [E['CONNECTION_REQUEST'], requestId: number, info: Omit<ClientInfo, 'subprotocol'>];
export type ClientConnectedEvent = [E['CLIENT_CONNECTED'], clientId: number, info: ClientInfo];
export type TextEvent = [E['TEXT'], clientId: number, text: string];
export type BinaryEvent = [E['BINARY'], clientId: number, data: Uint8Array];
export type ClientDisconnectedEvent = [E['CLIENT_DISCONNECTED'], clientId: number, code: number, reason: string, clean: boolean];
export type ErrorEvent = [E['ERROR'], code: string, message: string, clientId: number];
export type PongEvent = [E['PONG'], token: number];
export type StatsEvent = [E['STATS'], token: number, stats: Stats];
export type RequestExpiredEvent = [E['REQUEST_EXPIRED'], requestId: number];
export type ConsumedEvent = [E['CONSUMED'], total: number];

export type AnyEvent =
  | HelloEvent
  | ListeningEvent
  | StartFailedEvent
  | StoppedEvent
  | ConnectionRequestEvent
  | ClientConnectedEvent
  | TextEvent
  | BinaryEvent
  | ClientDisconnectedEvent
  | ErrorEvent
  | PongEvent
  | StatsEvent
  | RequestExpiredEvent
  | ConsumedEvent;
