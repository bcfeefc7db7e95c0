/**
 * Start options: defaults and validation. The defaults and ranges are those
 * of `protocol/start-options.ts`, the table PROTOCOL.md's "Start options" is
 * generated from; every default is also stated below.
 */
import type { StartOptions } from '../protocol/messages.js';
import { type START_OPTIONS, startOption } from '../protocol/start-options.js';
import { isWireMap, NotUtf8, WireFloat } from '../protocol/strict-decoder.js';

/** Options after defaults are applied, in the sidecar's own camelCase. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  port: number;
  /** Address to bind, IPv4, IPv6 or a host name. Default "0.0.0.0". */
  host: string;
  /** When not empty, the only path upgrades are accepted on. Default "" (any path). */
  path: string;
  /** Largest incoming message in bytes; bigger ones close the client with 1009. Default 1048576 (1 MiB). */
  maxMessageSize: number;
  /** Most simultaneous clients, 0 for no limit. Default 0. */
  maxClients: number;
  /** Time a connection has to complete its upgrade. Default 5000 ms. */
  handshakeTimeoutMs: number;
  /** Ping interval; 0 turns heartbeats off. Default 30000 ms. */
  heartbeatIntervalMs: number;
  /** Time a client has to answer a ping before it is dropped. Default 10000 ms. */
  heartbeatTimeoutMs: number;
  /** Subprotocols spoken, in preference order. Default none. */
  subprotocols: string[];
  /** Extra headers sent with the 101 response. Default none. */
  responseHeaders: Record<string, string>;
  /** Origins allowed to connect; empty allows any. Default empty. */
  allowedOrigins: string[];
  /** Negotiate permessage-deflate. Default false. */
  permessageDeflate: boolean;
  /** PEM certificate chain path; with `tlsKeyPath` the server speaks wss. Default "". */
  tlsCertPath: string;
  /** PEM private key path. Default "". */
  tlsKeyPath: string;
  /** Each upgrade waits for the host's accept or reject. Default false. */
  auth: boolean;
  /** Time the host has to answer a connection request before it is rejected with 503. Default 5000 ms. */
  authTimeoutMs: number;
  /** Bytes queued to one client before it is closed with 1008. Default 4194304 (4 MiB). */
  maxOutboundBuffer: number;
  /**
   * Messages per second one client may deliver to the host; past it the sidecar stops reading the
   * client's socket (TCP pushes back on it) and drops nothing. 0 for no limit. Default 0.
   */
  maxMessagesPerSecond: number;
  /**
   * Messages a client may deliver at once before `maxMessagesPerSecond` applies (its token bucket's
   * size); 0 means one second's worth, `maxMessagesPerSecond`. Only used with a limit. Default 0.
   */
  messageBurst: number;
  /**
   * Time a closing handshake (either side started it) may take before the sidecar ends the TCP
   * connection and reports the client with the close code known so far. Default 1000 ms.
   */
  closeTimeoutMs: number;
  /** With `auth`: most connection requests waiting for the host's answer; past it upgrades get 503. Default 1000. */
  maxPendingRequests: number;
  /** Bytes of unfinished incoming messages held for all clients together; past it the client whose data crossed it is closed with 1008. Default 67108864 (64 MiB). */
  maxInboundTotal: number;
  /** Bytes of events held for a host that is not reading; while stdout is backed up no connection is admitted. Default 16777216 (16 MiB). */
  maxQueuedEvents: number;
  /** Redis URL (`redis://` or `rediss://`) of the cluster this server joins; "" for none. Default "". */
  clusterUrl: string;
  /** How long this server's presence in Redis outlives its last heartbeat. Default 15000 ms. */
  clusterPresenceTtlMs: number;
  /** Port of the Prometheus `/metrics` endpoint; 0 for none. Default 0. */
  metricsPort: number;
  /** Address the metrics endpoint binds. Default "127.0.0.1". */
  metricsHost: string;
  /**
   * Send each client its Godot multiplayer peer id (client id + 1, int32 little-endian) as its
   * first message, before the host hears of it. Default false.
   */
  multiplayerPeerIds: boolean;
}

/** Raised for an option a host got wrong; becomes `start_failed` with `invalid_option`. */
export class InvalidOptionError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOptionError';
  }
}

type KeyOf<T extends string> = Extract<(typeof START_OPTIONS)[number], { type: T }>['key'];

/**
 * The option's value, or undefined when the key is missing (then the default applies). A key that
 * is present takes no default, whatever it holds: nil is refused like any other wrong type.
 */
function present(raw: Record<string, unknown>, key: string): unknown {
  const value = raw[key];
  if (value === null) throw new InvalidOptionError(`option "${key}" is nil: leave the key out to get its default`);
  return value;
}

function integer(raw: Record<string, unknown>, key: KeyOf<'int'>): number {
  const { default: fallback, min, max } = startOption(key);
  const value = present(raw, key);
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`option "${key}" must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function string(raw: Record<string, unknown>, key: KeyOf<'str'>): string {
  const value = present(raw, key);
  if (value === undefined) return startOption(key).default;
  if (typeof value !== 'string') throw new InvalidOptionError(`option "${key}" must be a string, got ${describe(value)}`);
  return value;
}

function boolean(raw: Record<string, unknown>, key: KeyOf<'bool'>): boolean {
  const value = present(raw, key);
  if (value === undefined) return startOption(key).default;
  if (typeof value !== 'boolean') throw new InvalidOptionError(`option "${key}" must be true or false, got ${describe(value)}`);
  return value;
}

function stringList(raw: Record<string, unknown>, key: KeyOf<'array of str'>): string[] {
  const value = present(raw, key);
  if (value === undefined) return [...startOption(key).default];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidOptionError(`option "${key}" must be an array of strings, got ${describe(value)}`);
  }
  return [...value];
}

function stringMap(raw: Record<string, unknown>, key: KeyOf<'map str → str'>): Record<string, string> {
  const value = present(raw, key);
  if (value === undefined) return { ...startOption(key).default };
  if (!isWireMap(value)) {
    throw new InvalidOptionError(`option "${key}" must be a map of strings to strings, got ${describe(value)}`);
  }
  const result: Record<string, string> = {};
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    if (typeof item !== 'string') throw new InvalidOptionError(`option "${key}" entry "${name}" must be a string, got ${describe(item)}`);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(item)) {
      throw new InvalidOptionError(`option "${key}" entry "${name}" is not a valid HTTP header`);
    }
    result[name] = item;
  }
  return result;
}

function describe(value: unknown): string {
  if (value instanceof WireFloat) return Number.isInteger(value.value) ? `${value.value}.0 (a float)` : String(value.value);
  if (value instanceof NotUtf8) return 'a str that is not valid UTF-8';
  if (value instanceof Uint8Array) return `binary data (${value.length} bytes)`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'object' ? 'a map' : String(value);
}

/**
 * Applies defaults to the `options` map of a `start` command.
 * @throws InvalidOptionError naming the first bad option
 */
export function resolveOptions(raw: StartOptions | Record<string, unknown>): ServerOptions {
  if (!isWireMap(raw)) {
    throw new InvalidOptionError(`start options must be a map, got ${describe(raw)}`);
  }
  const r = raw as Record<string, unknown>;
  const options: ServerOptions = {
    port: integer(r, 'port'),
    host: string(r, 'host'),
    path: string(r, 'path'),
    maxMessageSize: integer(r, 'max_message_size'),
    maxClients: integer(r, 'max_clients'),
    handshakeTimeoutMs: integer(r, 'handshake_timeout_ms'),
    heartbeatIntervalMs: integer(r, 'heartbeat_interval_ms'),
    heartbeatTimeoutMs: integer(r, 'heartbeat_timeout_ms'),
    subprotocols: stringList(r, 'subprotocols'),
    responseHeaders: stringMap(r, 'response_headers'),
    allowedOrigins: stringList(r, 'allowed_origins'),
    permessageDeflate: boolean(r, 'permessage_deflate'),
    tlsCertPath: string(r, 'tls_cert_path'),
    tlsKeyPath: string(r, 'tls_key_path'),
    auth: boolean(r, 'auth'),
    authTimeoutMs: integer(r, 'auth_timeout_ms'),
    maxOutboundBuffer: integer(r, 'max_outbound_buffer'),
    maxMessagesPerSecond: integer(r, 'max_messages_per_second'),
    messageBurst: integer(r, 'message_burst'),
    closeTimeoutMs: integer(r, 'close_timeout_ms'),
    maxPendingRequests: integer(r, 'max_pending_requests'),
    maxInboundTotal: integer(r, 'max_inbound_total'),
    maxQueuedEvents: integer(r, 'max_queued_events'),
    clusterUrl: string(r, 'cluster_url'),
    clusterPresenceTtlMs: integer(r, 'cluster_presence_ttl_ms'),
    metricsPort: integer(r, 'metrics_port'),
    metricsHost: string(r, 'metrics_host'),
    multiplayerPeerIds: boolean(r, 'multiplayer_peer_ids'),
  };
  if (options.host === '') throw new InvalidOptionError('option "host" must not be empty: use "0.0.0.0" for every IPv4 address or "::" for IPv6');
  if (options.path !== '' && !options.path.startsWith('/')) {
    throw new InvalidOptionError(`option "path" must start with "/", got ${describe(options.path)}`);
  }
  if ((options.tlsCertPath === '') !== (options.tlsKeyPath === '')) {
    throw new InvalidOptionError('options "tls_cert_path" and "tls_key_path" go together: set both to serve wss://, or neither');
  }
  if (options.clusterUrl !== '' && !/^rediss?:\/\/./.test(options.clusterUrl)) {
    throw new InvalidOptionError(`option "cluster_url" must be a redis:// or rediss:// URL, got ${describe(options.clusterUrl.replace(/\/\/[^@/]*@/, "//***@"))}`);
  }
  if (options.metricsHost === '') throw new InvalidOptionError('option "metrics_host" must not be empty: use "127.0.0.1" for this machine only');
  return options;
}

/** Every option at its default: `resolveOptions({})`. */
export const DEFAULT_OPTIONS: Readonly<ServerOptions> = Object.freeze(resolveOptions({}));
