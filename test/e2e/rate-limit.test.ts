/** The per-client inbound rate limit (max_messages_per_second, message_burst), through the real sidecar process. */
import { afterEach, describe, expect, it } from 'vitest';
import type { StartFailedError } from '../../host/sidecar-host.js';
import type { StartOptions } from '../../protocol/messages.js';
import { connect, nextEvent, startSidecar, stopAllSidecars, until, type Started } from '../support/harness.js';
import { closePayload, frame, RawClient } from '../support/raw-client.js';

afterEach(stopAllSidecars);

/** Every text and disconnect the host sees, in arrival order, with its arrival time. */
function recordEvents(started: Started): Array<{ id: number; text?: string; code?: number; clean?: boolean; at: number }> {
  const log: Array<{ id: number; text?: string; code?: number; clean?: boolean; at: number }> = [];
  started.host.on('text', (id, text) => log.push({ id, text, at: performance.now() }));
  started.host.on('disconnected', (id, code, _reason, clean) => log.push({ id, code, clean, at: performance.now() }));
  return log;
}

/** Opens a raw client and waits for the host to announce it. */
async function rawClient(started: Started): Promise<{ raw: RawClient; id: number }> {
  const connected = nextEvent<[number]>(started.host, 'connected');
  const raw = await RawClient.open(started.listening.port);
  const [id] = await connected;
  return { raw, id };
}

const texts = (count: number): string[] => Array.from({ length: count }, (_, i) => `m${i}`);

describe('inbound rate limit', () => {
  it('delivers all of a burst past the limit, in order, at the rate, while another client is served promptly', async () => {
    const started = await startSidecar({ max_messages_per_second: 100, message_burst: 20 });
    const log = recordEvents(started);
    const { client: flooder, id: flooderId } = await connect(started);
    const { client: other, id: otherId } = await connect(started);
    started.host.on('text', (id, text) => {
      if (id === otherId) started.host.sendText(id, text);
    });

    const sentAt = performance.now();
    for (const text of texts(300)) flooder.ws.send(text);
    // The other client's round trips while the flooder's messages are held back.
    const roundTrips: number[] = [];
    for (let k = 0; k < 20; k++) {
      const text = `other${k}`;
      const start = performance.now();
      other.ws.send(text);
      await until(() => other.texts.includes(text), `the echo of ${text}`);
      roundTrips.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const flooded = (): string[] => log.filter((e) => e.id === flooderId && e.text !== undefined).map((e) => e.text!);
    const otherDoneAt = performance.now();
    await until(() => flooded().length === 300, 'all 300 messages of the limited client', 15_000);
    const lastAt = log.filter((e) => e.id === flooderId).at(-1)!.at;
    const elapsed = lastAt - sentAt;
    console.log(`rate-limit: 300 messages at 100/s, burst 20, took ${Math.round(elapsed)} ms; other client's round trips: max ${Math.round(Math.max(...roundTrips))} ms`);

    expect(flooded()).toEqual(texts(300));
    // 20 at once, then 280 at 100 a second: 2.8 s.
    expect(elapsed).toBeGreaterThanOrEqual(2500);
    expect(elapsed).toBeLessThan(6000);
    const inFirstSecond = log.filter((e) => e.id === flooderId && e.at - sentAt < 1000).length;
    expect(inFirstSecond).toBeLessThanOrEqual(20 + 100 + 10);
    // The other client was not queued behind the held messages.
    expect(otherDoneAt).toBeLessThan(lastAt);
    expect(Math.max(...roundTrips)).toBeLessThan(500);
    expect((await started.host.stats()).messages_in).toBe(300 + 20);
  }, 30_000);

  it('delivers messages still held when the client closes before its client_disconnected', async () => {
    const started = await startSidecar({ max_messages_per_second: 10, message_burst: 5 });
    const log = recordEvents(started);
    const { raw, id } = await rawClient(started);
    const sentAt = performance.now();
    // One write: the sidecar reads the 50 messages and the close frame together, holds 45 of them.
    raw.send(...texts(50).map((text) => frame(1, text)), frame(8, closePayload(1000, 'done')));
    await until(() => log.some((e) => e.code !== undefined), 'the disconnect', 10_000);
    const elapsed = performance.now() - sentAt;
    expect(log.map((e) => e.text ?? `disconnected ${e.code} ${e.clean}`)).toEqual([...texts(50), 'disconnected 1000 true']);
    expect(log.every((e) => e.id === id)).toBe(true);
    // At the rate, the 45 held messages would have taken 4.5 s: they went out with the close.
    expect(elapsed).toBeLessThan(3000);
  });

  it('delivers held messages before client_disconnected when the host closes a limited client', async () => {
    const started = await startSidecar({ max_messages_per_second: 10, message_burst: 5 });
    const log = recordEvents(started);
    const { raw, id } = await rawClient(started);
    raw.send(...texts(50).map((text) => frame(1, text)));
    await until(() => log.length === 5, 'the burst');
    started.host.disconnect(id, 4000, 'slow down');
    expect(await raw.closeCode()).toBe(4000);
    await until(() => log.some((e) => e.code !== undefined), 'the disconnect', 10_000);
    // The limited socket cannot read the client's close reply, so it is dropped after the grace period.
    expect(log.map((e) => e.text ?? `disconnected ${e.code} ${e.clean}`)).toEqual([...texts(50), 'disconnected 4000 false']);
    raw.destroy();
  });

  it('stop closes a client with held messages, delivers them first, and starts again', async () => {
    const started = await startSidecar({ max_messages_per_second: 10, message_burst: 5 });
    const log = recordEvents(started);
    const { raw } = await rawClient(started);
    raw.send(...texts(50).map((text) => frame(1, text)));
    await until(() => log.length === 5, 'the burst');
    await started.host.stop();
    expect(log.map((e) => e.text ?? `disconnected ${e.code}`)).toEqual([...texts(50), 'disconnected 1001']);
    raw.destroy();
    const again = await started.host.start({ port: 0, host: '127.0.0.1', max_messages_per_second: 10 });
    expect(again.port).toBeGreaterThan(0);
  });

  it.each([
    [{ max_messages_per_second: -1 }, 'option "max_messages_per_second" must be an integer from 0 to 2147483647, got -1'],
    [{ max_messages_per_second: 1.5 }, 'option "max_messages_per_second" must be an integer from 0 to 2147483647, got 1.5'],
    [{ message_burst: 'ten' }, 'option "message_burst" must be an integer from 0 to 2147483647, got "ten"'],
    [{ message_burst: 2 ** 31 }, 'option "message_burst" must be an integer from 0 to 2147483647, got 2147483648'],
  ])('refuses %j with invalid_option', async (options, message) => {
    const failure = (await startSidecar(options as StartOptions).catch((error: unknown) => error)) as StartFailedError;
    expect(failure.code).toBe('invalid_option');
    expect(failure.message).toBe(message);
  });
});
