/**
 * The `start` command's options (PROTOCOL.md, "Start options"): the one table
 * the sidecar validates against and `npm run fixtures` copies into
 * PROTOCOL.md, `protocol/fixtures/start-options.json` (which the Godot tests
 * hold the node's `@export`s against) and the addon's `protocol.gd`.
 */

/** Largest value of a 32-bit signed integer, the ceiling of most counts and times. */
export const MAX_INT32 = 2 ** 31 - 1;

interface IntOption {
  type: 'int';
  default: number;
  min: number;
  max: number;
}
interface StrOption {
  type: 'str';
  default: string;
}
interface BoolOption {
  type: 'bool';
  default: boolean;
}
/**
 * `inspector: false` marks an option the `WebSocketServer` node does not show in the Inspector:
 * something else sets it (`multiplayer_peer_ids`: WebSocketServerMultiplayerPeer). The Godot
 * options test then checks a plain property of that name instead of an `@export`.
 */
interface InspectorFlag {
  inspector?: false;
}
interface StrListOption {
  type: 'array of str';
  default: readonly string[];
}
interface StrMapOption {
  type: 'map str → str';
  default: Readonly<Record<string, string>>;
}

/** One start option: its wire key, type, default, for ints the accepted range, and a one-line doc. */
export type StartOption = { key: string; doc: string } & InspectorFlag & (IntOption | StrOption | BoolOption | StrListOption | StrMapOption);

/** Every start option, in PROTOCOL.md's order. */
export const START_OPTIONS = [
  { key: 'port', type: 'int', default: 8080, min: 0, max: 65535, doc: 'TCP port; 0 picks a free one (reported in `listening`)' },
  { key: 'host', type: 'str', default: '0.0.0.0', doc: 'address to bind: IPv4 or IPv6 (`"::"`), or a host name' },
  { key: 'path', type: 'str', default: '', doc: 'when not empty, only upgrades to this exact path are accepted (others get 404)' },
  {
    key: 'max_message_size',
    type: 'int',
    default: 1024 * 1024,
    min: 1,
    max: 128 * 1024 * 1024,
    doc: 'largest incoming message in bytes; bigger ones close the client with 1009',
  },
  { key: 'max_clients', type: 'int', default: 0, min: 0, max: MAX_INT32, doc: 'most simultaneous clients, 0 for no limit; upgrades past it get 503' },
  {
    key: 'handshake_timeout_ms',
    type: 'int',
    default: 5000,
    min: 1,
    max: MAX_INT32,
    doc: 'a connection must complete its upgrade within this time, or it is dropped',
  },
  { key: 'heartbeat_interval_ms', type: 'int', default: 30_000, min: 0, max: MAX_INT32, doc: 'ping every client this often; 0 turns heartbeats off' },
  {
    key: 'heartbeat_timeout_ms',
    type: 'int',
    default: 10_000,
    min: 1,
    max: MAX_INT32,
    doc: 'a client that has not answered a ping within this time is dropped (1006)',
  },
  { key: 'subprotocols', type: 'array of str', default: [], doc: 'subprotocols the server speaks, in preference order' },
  { key: 'response_headers', type: 'map str → str', default: {}, doc: 'extra headers sent with the 101 response' },
  { key: 'allowed_origins', type: 'array of str', default: [], doc: 'when not empty, upgrades whose `Origin` is not listed get 403' },
  { key: 'permessage_deflate', type: 'bool', default: false, doc: 'negotiate permessage-deflate compression' },
  { key: 'tls_cert_path', type: 'str', default: '', doc: 'PEM certificate chain; with `tls_key_path`, serve `wss://` (TLS 1.2 minimum)' },
  { key: 'tls_key_path', type: 'str', default: '', doc: 'PEM private key' },
  { key: 'auth', type: 'bool', default: false, doc: "each upgrade waits for the host's `accept`/`reject` before it becomes a client" },
  { key: 'auth_timeout_ms', type: 'int', default: 5000, min: 1, max: MAX_INT32, doc: 'a `connection_request` not answered in time is rejected with 503' },
  {
    key: 'max_outbound_buffer',
    type: 'int',
    default: 4 * 1024 * 1024,
    min: 1024,
    max: 2 ** 32,
    doc: 'bytes queued to one client before it is closed with 1008',
  },
  {
    key: 'max_messages_per_second',
    type: 'int',
    default: 0,
    min: 0,
    max: MAX_INT32,
    doc: 'messages one client may deliver per second (see *Inbound rate limit*); 0 for no limit',
  },
  {
    key: 'message_burst',
    type: 'int',
    default: 0,
    min: 0,
    max: MAX_INT32,
    doc: "messages a client may deliver at once before the rate applies; 0 means one second's worth (`max_messages_per_second`). Ignored without a rate",
  },
  {
    key: 'close_timeout_ms',
    type: 'int',
    default: 1000,
    min: 1,
    max: 60_000,
    doc: 'a closing handshake (either side started it) not finished in this time ends the TCP connection; the client is reported with the close code known so far',
  },
  {
    key: 'max_pending_requests',
    type: 'int',
    default: 1000,
    min: 1,
    max: 65_535,
    doc: 'with `auth`: most `connection_request`s waiting for an answer; upgrades past it get 503 and a `rejected_connection` error',
  },
  {
    key: 'max_inbound_total',
    type: 'int',
    default: 64 * 1024 * 1024,
    min: 1,
    max: MAX_INT32,
    doc: 'bytes of unfinished incoming messages held for all clients together; past it the client whose data crossed it is closed with 1008 (`inbound_overflow`)',
  },
  {
    key: 'max_queued_events',
    type: 'int',
    default: 16 * 1024 * 1024,
    min: 1024,
    max: MAX_INT32,
    doc: 'bytes of events held for a host that is not reading; while stdout is backed up no new connection is admitted (upgrades get 503)',
  },
  {
    key: 'cluster_url',
    type: 'str',
    default: '',
    doc: 'when not empty, a Redis URL (`redis://` or `rediss://`): broadcasts, room broadcasts, sends and disconnects reach every server of the cluster (see *Cluster*)',
  },
  {
    key: 'cluster_presence_ttl_ms',
    type: 'int',
    default: 15_000,
    min: 100,
    max: 600_000,
    doc: "with `cluster_url`: how long a server's presence outlives its last heartbeat (refreshed every third of it); a server killed without goodbye drops out within it",
  },
  { key: 'metrics_port', type: 'int', default: 0, min: 0, max: 65535, doc: 'when not 0, serve Prometheus metrics at `http://metrics_host:metrics_port/metrics`' },
  { key: 'metrics_host', type: 'str', default: '127.0.0.1', doc: 'address the metrics endpoint binds' },
  {
    key: 'multiplayer_peer_ids',
    type: 'bool',
    default: false,
    inspector: false,
    doc: "send each client, as its first message, its Godot peer id (client id + 1) as a 4-byte little-endian int32, as Godot's `WebSocketMultiplayerPeer` server does (see *Multiplayer peer ids*); set by `WebSocketServerMultiplayerPeer`",
  },
] as const satisfies readonly StartOption[];

export type StartOptionKey = (typeof START_OPTIONS)[number]['key'];

/** The option with wire key `key`. */
export function startOption<K extends StartOptionKey>(key: K): Extract<(typeof START_OPTIONS)[number], { key: K }> {
  return START_OPTIONS.find((option) => option.key === key) as Extract<(typeof START_OPTIONS)[number], { key: K }>;
}
