/**
 * Numbers and names fixed by `protocol/PROTOCOL.md`. `npm run fixtures`
 * generates the GDScript copy, `godot-addon/addons/websocket_server/protocol.gd`,
 * from this file; `test/protocol/generated.test.ts` fails when that copy is stale.
 */

/** Version of PROTOCOL.md that this code speaks. */
export const PROTOCOL_VERSION = 1;

/** Bytes in a frame's little-endian length prefix. */
export const LENGTH_PREFIX_BYTES = 4;

/** Largest frame body either side accepts; anything larger is a broken stream. */
export const MAX_FRAME_LENGTH = 256 * 1024 * 1024;

/** Opcodes of host → sidecar commands (1–63). */
export const Command = {
  START: 1,
  STOP: 2,
  SEND_TEXT: 3,
  SEND_BINARY: 4,
  BROADCAST_TEXT: 5,
  BROADCAST_BINARY: 6,
  JOIN_ROOM: 7,
  LEAVE_ROOM: 8,
  ROOM_TEXT: 9,
  ROOM_BINARY: 10,
  DISCONNECT: 11,
  ACCEPT: 12,
  REJECT: 13,
  PING: 14,
  GET_STATS: 15,
  REQUEST_ROOM_MEMBERS: 16,
  REQUEST_CLUSTER_STATS: 17,
  SHUTDOWN: 18,
} as const;

/** Opcodes of sidecar → host events (64–127). */
export const Event = {
  HELLO: 64,
  LISTENING: 65,
  START_FAILED: 66,
  STOPPED: 67,
  CONNECTION_REQUEST: 68,
  CLIENT_CONNECTED: 69,
  TEXT: 70,
  BINARY: 71,
  CLIENT_DISCONNECTED: 72,
  ERROR: 73,
  PONG: 74,
  STATS: 75,
  REQUEST_EXPIRED: 76,
  ROOM_MEMBERS: 77,
  CLUSTER_STATS: 78,
  CONSUMED: 79,
} as const;

/** Stable codes carried by `start_failed` and `error` events. */
export const ErrorCode = {
  ADDRESS_IN_USE: 'address_in_use',
  PERMISSION_DENIED: 'permission_denied',
  ADDRESS_NOT_AVAILABLE: 'address_not_available',
  LISTEN_FAILED: 'listen_failed',
  TLS_FILE_UNREADABLE: 'tls_file_unreadable',
  TLS_INVALID: 'tls_invalid',
  INVALID_OPTION: 'invalid_option',
  PROTOCOL_MISMATCH: 'protocol_mismatch',
  ALREADY_LISTENING: 'already_listening',
  MALFORMED_COMMAND: 'malformed_command',
  UNKNOWN_COMMAND: 'unknown_command',
  UNKNOWN_CLIENT: 'unknown_client',
  UNKNOWN_REQUEST: 'unknown_request',
  INVALID_ARGUMENT: 'invalid_argument',
  NOT_LISTENING: 'not_listening',
  OUTBOUND_OVERFLOW: 'outbound_overflow',
  CLIENT_PROTOCOL_ERROR: 'client_protocol_error',
  HEARTBEAT_TIMEOUT: 'heartbeat_timeout',
  REJECTED_CONNECTION: 'rejected_connection',
  CLIENT_CLOSING: 'client_closing',
  ACCEPT_FAILED: 'accept_failed',
  INBOUND_OVERFLOW: 'inbound_overflow',
  TLS_CERTIFICATE_EXPIRED: 'tls_certificate_expired',
  CLUSTER_UNAVAILABLE: 'cluster_unavailable',
  CLUSTER_RESTORED: 'cluster_restored',
} as const;

/** Command-line argument that turns on `consumed` events (PROTOCOL.md, "Stdin credit"). */
export const STDIN_CREDIT_ARG = '--stdin-credit';

/** Optional features a sidecar announces in `hello`. */
export const CAPABILITIES = ['tls', 'permessage-deflate', 'auth', 'rooms', 'stats'] as const;

/** Folders under the addon's `bin/` holding a platform's sidecar binary (`<os>-<arch>`). */
export const PLATFORM_DIRS = ['linux-x64', 'windows-x64', 'macos-arm64', 'macos-x64'] as const;

export type PlatformDir = (typeof PLATFORM_DIRS)[number];
