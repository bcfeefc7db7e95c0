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
/** A `ping`/`get_stats` token: any MessagePack integer, echoed exactly (a bigint past 2^53). */
export type Token = number | bigint;

export type PingCommand = [C['PING'], token: Token];
export type GetStatsCommand = [C['GET_STATS'], token: Token];
export type RequestRoomMembersCommand = [C['REQUEST_ROOM_MEMBERS'], token: number, room: string];
export type RequestClusterStatsCommand = [C['REQUEST_CLUSTER_STATS'], token: number];
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
  | RequestRoomMembersCommand
  | RequestClusterStatsCommand
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
  /** Nil when it could not be read (named in `unavailable`). */
  rss: number | null;
  uptime_ms: number;
  paused: boolean;
  /** Connections the listener could not accept (EMFILE/ENFILE) since the start. */
  accept_errors: number;
  /** The keys whose value could not be read this time; each is present with nil. */
  unavailable: string[];
}

/** What `cluster_stats` reports (PROTOCOL.md, "Cluster"). */
export interface ClusterStats {
  /** Whether this server has a cluster_url at all. */
  enabled: boolean;
  /** Whether this server reaches Redis right now. */
  connected: boolean;
  /** This server's node number (0 without a cluster). */
  node: number;
  /** Servers present in the cluster (1 without a cluster). */
  servers: number;
  /** Clients of every present server together. */
  clients: number;
  /** Clients of each present server, keyed by its node number written in decimal. */
  clients_per_server: Record<string, number>;
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
export type PongEvent = [E['PONG'], token: Token];
export type StatsEvent = [E['STATS'], token: Token, stats: Stats];
export type RequestExpiredEvent = [E['REQUEST_EXPIRED'], requestId: number];
export type RoomMembersEvent = [E['ROOM_MEMBERS'], token: number, room: string, clientIds: number[]];
export type ClusterStatsEvent = [E['CLUSTER_STATS'], token: number, stats: ClusterStats];
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
  | RoomMembersEvent
  | ClusterStatsEvent
  | ConsumedEvent;
