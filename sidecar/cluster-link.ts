/**
 * The sidecar's two connections to Redis: one publishes (and runs presence commands), one
 * subscribes. Neither queues commands while Redis is away (nothing waits on Redis: a publish
 * then fails at once and the message is lost, at most once), both reconnect with backoff, and the
 * subscriber restores the wanted channels itself on each reconnect. `lost`/`restored` report
 * the pair going down and coming back.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** Longest pause between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2000;
/** How long `connect` tries before it reports Redis unreachable. */
const CONNECT_TIMEOUT_MS = 3000;

export interface LinkHandlers {
  /** A message on a subscribed channel; both as raw bytes. */
  message(channel: Buffer, message: Buffer): void;
  /** Redis became unreachable (once per outage). */
  lost(cause: string): void;
  /** Redis is back and every wanted channel is subscribed again. */
  restored(): void;
}

/** Redis could not be reached at `start`; the message names the URL and the cause. */
export class ClusterConnectError extends Error {}

export class ClusterLink {
  readonly pub: Redis;
  private readonly sub: Redis;
  private readonly handlers: LinkHandlers;
  private readonly channels = new Set<string>();
  private up = true;
  private closing = false;

  private constructor(pub: Redis, sub: Redis, handlers: LinkHandlers) {
    this.pub = pub;
    this.sub = sub;
    this.handlers = handlers;
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.handlers.message(channel, message));
    for (const redis of [pub, sub]) {
      // From now on a lost connection is retried, with backoff, for as long as the server runs.
      redis.options.retryStrategy = (attempt) => Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS);
      redis.on('close', () => this.closed());
      redis.on('ready', () => this.readied());
    }
  }

  /**
   * Opens both connections. Fails fast (no retry) so `start` can answer `start_failed`.
   * @throws ClusterConnectError naming the URL (password masked) and the cause
   */
  static async connect(url: string, handlers: LinkHandlers): Promise<ClusterLink> {
    const options: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      retryStrategy: () => null,
    };
    const made: Redis[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const redis = new Redis(url, options);
        made.push(redis);
        let lastError: Error | undefined;
        redis.on('error', (error: Error) => (lastError = error));
        try {
          await redis.connect();
          // connect() resolves before AUTH fails on some servers: a PING proves we are let in.
          await redis.ping();
        } catch (error) {
          throw new ClusterConnectError(`Redis at ${maskUrl(url)} could not be reached: ${explain(lastError ?? (error as Error), url.startsWith('rediss:'))}`);
        }
      }
    } catch (error) {
      for (const redis of made) redis.disconnect();
      throw error;
    }
    return new ClusterLink(made[0]!, made[1]!, handlers);
  }

  /** Whether both connections are ready right now. */
  get connected(): boolean {
    return this.up;
  }

  /** Starts receiving `channel` (now, or as soon as Redis is back). */
  subscribe(channel: string): void {
    this.channels.add(channel);
    if (this.up) this.sub.subscribe(channel).catch(() => {});
  }

  unsubscribe(channel: string): void {
    this.channels.delete(channel);
    if (this.up) this.sub.unsubscribe(channel).catch(() => {});
  }

  /** Publishes once; resolves with the number of servers that received it, -1 when Redis is away. */
  publish(channel: string, message: Buffer): Promise<number> {
    if (!this.up) return Promise.resolve(-1);
    return this.pub.publish(channel, message).catch(() => -1);
  }

  /** Closes both connections; nothing is reported afterwards. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private closed(): void {
    if (this.closing || !this.up) return;
    this.up = false;
    this.handlers.lost('the connection to Redis was lost');
  }

  private readied(): void {
    if (this.closing || this.up || this.pub.status !== 'ready' || this.sub.status !== 'ready') return;
    void this.resubscribe();
  }

  /** A fresh subscriber connection knows no channel: every wanted one is asked for again. */
  private async resubscribe(): Promise<void> {
    try {
      if (this.channels.size > 0) await this.sub.subscribe(...this.channels);
    } catch {
      return; // lost again: the next 'ready' tries again
    }
    if (this.closing || this.up || this.pub.status !== 'ready' || this.sub.status !== 'ready') return;
    this.up = true;
    this.handlers.restored();
  }
}

/** `url` with any password replaced by `***`. */
export function maskUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

function explain(error: Error & { code?: string }, tls: boolean): string {
  const message = error.message;
  if (tls && (error.code === 'ETIMEDOUT' || /timeout/i.test(message))) {
    return `the TLS handshake did not finish within ${CONNECT_TIMEOUT_MS} ms (${message}): does this Redis speak TLS? Use redis:// for one that does not`;
  }
  if (error.code === 'ECONNREFUSED') return `nothing accepts connections there (${message}): is redis-server running, on that port?`;
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return `the host name does not resolve (${message})`;
  if (error.code === 'ETIMEDOUT' || /timeout/i.test(message)) return `no answer within ${CONNECT_TIMEOUT_MS} ms (${message})`;
  if (/WRONGPASS|NOAUTH|invalid password|AUTH/i.test(message)) return `authentication failed (${message}): check the user and password in cluster_url`;
  if (/SSL|TLS|EPROTO|certificate|wrong version/i.test(message) || (error.code ?? '').startsWith('ERR_SSL')) {
    return `TLS failed (${message}): rediss:// needs a Redis that speaks TLS, redis:// one that does not`;
  }
  return message;
}
