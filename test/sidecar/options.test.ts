import { describe, expect, it } from 'vitest';
import { NotUtf8, WireFloat } from '../../protocol/strict-decoder.js';
import { DEFAULT_OPTIONS, InvalidOptionError, resolveOptions } from '../../sidecar/options.js';

describe('resolveOptions', () => {
  it('applies every default to an empty map', () => {
    expect(resolveOptions({})).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS).toMatchObject({ port: 8080, host: '0.0.0.0', maxMessageSize: 1048576, permessageDeflate: false, auth: false });
    expect(DEFAULT_OPTIONS).toMatchObject({ maxMessagesPerSecond: 0, messageBurst: 0 });
    expect(DEFAULT_OPTIONS).toMatchObject({ clusterUrl: '', clusterPresenceTtlMs: 15000, metricsPort: 0, metricsHost: '127.0.0.1' });
  });

  it('reads the inbound rate limit', () => {
    expect(resolveOptions({ max_messages_per_second: 100, message_burst: 20 })).toMatchObject({ maxMessagesPerSecond: 100, messageBurst: 20 });
    expect(resolveOptions({ max_messages_per_second: 2 ** 31 - 1, message_burst: 0 })).toMatchObject({ maxMessagesPerSecond: 2 ** 31 - 1, messageBurst: 0 });
  });

  it('maps snake_case keys and ignores unknown ones', () => {
    const options = resolveOptions({ port: 0, max_clients: 5, subprotocols: ['a'], response_headers: { 'x-a': 'b' }, future_option: 1 });
    expect(options).toMatchObject({ port: 0, maxClients: 5, subprotocols: ['a'], responseHeaders: { 'x-a': 'b' } });
  });

  it.each([
    [{ port: 70000 }, /"port" must be an integer from 0 to 65535, got 70000/],
    [{ port: 1.5 }, /"port" must be an integer/],
    [{ host: 5 }, /"host" must be a string, got 5/],
    [{ host: '' }, /"host" must not be empty/],
    [{ path: 'ws' }, /"path" must start with "\/"/],
    [{ auth: 'yes' }, /"auth" must be true or false/],
    [{ subprotocols: ['a', 1] }, /"subprotocols" must be an array of strings/],
    [{ response_headers: { 'bad header': 'x' } }, /not a valid HTTP header/],
    [{ response_headers: { 'x-a': 'a\r\nInjected: 1' } }, /not a valid HTTP header/],
    [{ tls_cert_path: 'cert.pem' }, /go together/],
    [{ max_message_size: 0 }, /"max_message_size" must be an integer from 1/],
    [{ max_messages_per_second: -1 }, /^option "max_messages_per_second" must be an integer from 0 to 2147483647, got -1$/],
    [{ max_messages_per_second: 2.5 }, /^option "max_messages_per_second" must be an integer from 0 to 2147483647, got 2.5$/],
    [{ max_messages_per_second: 2 ** 31 }, /"max_messages_per_second" must be an integer from 0 to 2147483647, got 2147483648/],
    [{ max_messages_per_second: '100' }, /"max_messages_per_second" must be an integer from 0 to 2147483647, got "100"/],
    [{ message_burst: -5 }, /^option "message_burst" must be an integer from 0 to 2147483647, got -5$/],
    [{ message_burst: true }, /"message_burst" must be an integer from 0 to 2147483647, got true/],
    [{ cluster_url: 'localhost:6379' }, /^option "cluster_url" must be a redis:\/\/ or rediss:\/\/ URL, got "localhost:6379"$/],
    [{ cluster_url: 'http://u:secret@h' }, /got "http:\/\/\*\*\*@h"$/],
    [{ cluster_presence_ttl_ms: 99 }, /"cluster_presence_ttl_ms" must be an integer from 100 to 600000/],
    [{ metrics_port: 65536 }, /"metrics_port" must be an integer from 0 to 65535/],
    [{ metrics_host: '' }, /"metrics_host" must not be empty/],
  ])('refuses %j', (raw, message) => {
    expect(() => resolveOptions(raw)).toThrow(InvalidOptionError);
    expect(() => resolveOptions(raw)).toThrow(message);
  });

  it('refuses options that are not a map', () => {
    expect(() => resolveOptions([] as unknown as Record<string, unknown>)).toThrow(/must be a map, got an array/);
  });

  it.each(['port', 'path', 'permessage_deflate', 'subprotocols', 'response_headers'])('refuses %s = nil instead of taking its default', (key) => {
    expect(() => resolveOptions({ [key]: null })).toThrow(new InvalidOptionError(`option "${key}" is nil: leave the key out to get its default`));
  });

  it('refuses floats, bigints and str that is not UTF-8 where the strict decoder produced them', () => {
    expect(() => resolveOptions({ port: new WireFloat(8080) })).toThrow(/"port" must be an integer from 0 to 65535, got 8080.0 \(a float\)/);
    expect(() => resolveOptions({ port: 2n ** 60n })).toThrow(/"port" must be an integer/);
    expect(() => resolveOptions({ host: new NotUtf8(Buffer.from([0xc0, 0xaf])) })).toThrow(/"host" must be a string, got a str that is not valid UTF-8/);
    expect(() => resolveOptions({ response_headers: new WireFloat(1.5) })).toThrow(/"response_headers" must be a map/);
    expect(() => resolveOptions(new WireFloat(1) as unknown as Record<string, unknown>)).toThrow(/must be a map/);
  });

  it('reads a map without a prototype, as the strict decoder builds it', () => {
    const raw = Object.assign(Object.create(null) as Record<string, unknown>, { port: 0, ['__proto__']: 1 });
    expect(resolveOptions(raw).port).toBe(0);
  });
});
