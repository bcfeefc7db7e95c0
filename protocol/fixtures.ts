/**
 * The golden fixtures: one frame per command and event. `write-fixtures.ts`
 * writes them to `protocol/fixtures/`; the TypeScript and GDScript codec tests
 * both read them back. Values are chosen to exercise several header sizes
 * (fixstr and str8, fixmap, bin8, uint8/uint16 ints, negative ints absent on purpose
 * because the protocol never sends them).
 */
import { Command, Event, PROTOCOL_VERSION } from './constants.js';
import type { AnyCommand, AnyEvent } from './messages.js';

export interface Fixture {
  /** File stem under protocol/fixtures/. */
  name: string;
  direction: 'command' | 'event';
  value: AnyCommand | AnyEvent;
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const info = {
  address: '127.0.0.1',
  port: 51234,
  path: '/game',
  query: 'room=lobby&token=abc',
  headers: { host: 'localhost:8080', origin: 'http://localhost', 'user-agent': 'fixture' },
};

export const FIXTURES: Fixture[] = [
  {
    name: 'start',
    direction: 'command',
    value: [
      Command.START,
      PROTOCOL_VERSION,
      {
        port: 8080,
        host: '0.0.0.0',
        path: '/game',
        max_message_size: 1048576,
        max_clients: 0,
        handshake_timeout_ms: 5000,
        heartbeat_interval_ms: 30000,
        heartbeat_timeout_ms: 10000,
        subprotocols: ['game.v1', 'chat'],
        response_headers: { 'x-server': 'godot' },
        allowed_origins: [],
        permessage_deflate: false,
        tls_cert_path: '',
        tls_key_path: '',
        auth: true,
        auth_timeout_ms: 5000,
        max_outbound_buffer: 4194304,
        max_messages_per_second: 200,
        message_burst: 1000,
        close_timeout_ms: 1000,
        max_pending_requests: 1000,
        max_inbound_total: 67108864,
        max_queued_events: 16777216,
        cluster_url: '',
        cluster_presence_ttl_ms: 15000,
        metrics_port: 0,
        metrics_host: '127.0.0.1',
        multiplayer_peer_ids: false,
      },
    ],
  },
  { name: 'stop', direction: 'command', value: [Command.STOP] },
  { name: 'send_text', direction: 'command', value: [Command.SEND_TEXT, 1, 'Welcome to the server!'] },
  { name: 'send_binary', direction: 'command', value: [Command.SEND_BINARY, 300, bytes(0, 1, 2, 253, 254, 255)] },
  { name: 'broadcast_text', direction: 'command', value: [Command.BROADCAST_TEXT, 'héllo wörld, ünïcode ✓ and a string past 31 bytes', 0] },
  { name: 'broadcast_binary', direction: 'command', value: [Command.BROADCAST_BINARY, bytes(...Array.from({ length: 40 }, (_, i) => i)), 7] },
  { name: 'join_room', direction: 'command', value: [Command.JOIN_ROOM, 2, 'lobby'] },
  { name: 'leave_room', direction: 'command', value: [Command.LEAVE_ROOM, 2, 'lobby'] },
  { name: 'room_text', direction: 'command', value: [Command.ROOM_TEXT, 'lobby', 'hi room', 3] },
  { name: 'room_binary', direction: 'command', value: [Command.ROOM_BINARY, 'lobby', bytes(9, 8, 7), 0] },
  { name: 'disconnect', direction: 'command', value: [Command.DISCONNECT, 5, 4001, 'kicked by host'] },
  { name: 'accept', direction: 'command', value: [Command.ACCEPT, 1, ''] },
  { name: 'reject', direction: 'command', value: [Command.REJECT, 2, 403, 'bad token'] },
  { name: 'ping', direction: 'command', value: [Command.PING, 70000] },
  { name: 'get_stats', direction: 'command', value: [Command.GET_STATS, 9] },
  { name: 'request_room_members', direction: 'command', value: [Command.REQUEST_ROOM_MEMBERS, 10, 'lobby'] },
  { name: 'request_cluster_stats', direction: 'command', value: [Command.REQUEST_CLUSTER_STATS, 11] },
  { name: 'shutdown', direction: 'command', value: [Command.SHUTDOWN] },

  { name: 'hello', direction: 'event', value: [Event.HELLO, PROTOCOL_VERSION, '0.1.0', ['tls', 'permessage-deflate', 'auth', 'rooms', 'stats']] },
  { name: 'listening', direction: 'event', value: [Event.LISTENING, 8080, '0.0.0.0', false] },
  {
    name: 'start_failed',
    direction: 'event',
    value: [Event.START_FAILED, 'address_in_use', 'port 8080 on 0.0.0.0 is already in use by another program: stop it, or start on another port (0 picks a free one)'],
  },
  { name: 'stopped', direction: 'event', value: [Event.STOPPED] },
  { name: 'connection_request', direction: 'event', value: [Event.CONNECTION_REQUEST, 1, info] },
  { name: 'client_connected', direction: 'event', value: [Event.CLIENT_CONNECTED, 1, { ...info, subprotocol: 'game.v1' }] },
  { name: 'text', direction: 'event', value: [Event.TEXT, 1, 'Echo: hello'] },
  { name: 'binary', direction: 'event', value: [Event.BINARY, 65535, bytes(255, 0, 127, 128)] },
  { name: 'client_disconnected', direction: 'event', value: [Event.CLIENT_DISCONNECTED, 1, 4001, 'bye', true] },
  { name: 'error', direction: 'event', value: [Event.ERROR, 'unknown_client', 'no client with id 42 is connected', 42] },
  { name: 'pong', direction: 'event', value: [Event.PONG, 70000] },
  { name: 'request_expired', direction: 'event', value: [Event.REQUEST_EXPIRED, 3] },
  // Cluster ids are past 32 bits (node 2, local 5 and 300): uint64 on the wire.
  { name: 'room_members', direction: 'event', value: [Event.ROOM_MEMBERS, 10, 'lobby', [2 * 2 ** 32 + 5, 3 * 2 ** 32 + 300, 1]] },
  {
    name: 'cluster_stats',
    direction: 'event',
    value: [Event.CLUSTER_STATS, 11, { enabled: true, connected: true, node: 2, servers: 2, clients: 7, clients_per_server: { '2': 3, '3': 4 } }],
  },
  { name: 'consumed', direction: 'event', value: [Event.CONSUMED, 70000] },
  {
    name: 'stats',
    direction: 'event',
    value: [
      Event.STATS,
      9,
      {
        clients: 3,
        rooms: 1,
        pending_requests: 0,
        messages_in: 1200,
        messages_out: 1500,
        bytes_in: 76800,
        bytes_out: 96000,
        rss: 52428800,
        uptime_ms: 12500,
        paused: false,
        accept_errors: 0,
        unavailable: [],
      },
    ],
  },
];

/** Turns a fixture value into JSON, writing binary as `{"$bin": hex}`. */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bin: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]));
  }
  return value;
}
