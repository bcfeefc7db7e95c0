/** 1,000 concurrent clients each echoing 100 messages through the host: every message once, in order. */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, startSidecar, stopAllSidecars, until, type RecordingClient } from '../support/harness.js';

afterEach(stopAllSidecars);

const CLIENTS = 1000;
const MESSAGES = 100;

describe('load', () => {
  it(`echoes ${MESSAGES} messages for each of ${CLIENTS} concurrent clients, each once and in order`, async () => {
    const started = await startSidecar();
    started.host.on('text', (id, text) => started.host.sendText(id, text));
    const clients: RecordingClient[] = [];
    // Connect in waves of 100 so the test measures delivery, not the kernel's accept queue.
    for (let wave = 0; wave < CLIENTS / 100; wave++) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => connect(started)));
      clients.push(...batch.map(({ client }) => client));
    }
    expect((await started.host.stats()).clients).toBe(CLIENTS);
    clients.forEach((client, c) => {
      for (let i = 0; i < MESSAGES; i++) client.ws.send(`${c}:${i}`);
    });
    await until(() => clients.every((client) => client.texts.length >= MESSAGES), 'every echo', 60_000);
    clients.forEach((client, c) => {
      expect(client.texts).toEqual(Array.from({ length: MESSAGES }, (_, i) => `${c}:${i}`));
    });
    const stats = await started.host.stats();
    expect(stats.messages_in).toBe(CLIENTS * MESSAGES);
    expect(stats.messages_out).toBe(CLIENTS * MESSAGES);
    for (const client of clients) client.ws.terminate();
  }, 120_000);
});
