import { describe, expect, it } from 'vitest';
import { PendingReplies } from '../../host/pending-replies.js';

const gone = (what: string, pending: boolean): Error => new Error(`${pending ? 'gone before answering' : 'not running for'} ${what}`);

describe('PendingReplies', () => {
  it('sends after registering, and settles the oldest wait of a key first', async () => {
    const replies = new PendingReplies();
    const sent: string[] = [];
    const first = replies.wait<string>('start', 'start', () => sent.push('a'));
    const second = replies.wait<string>('start', 'start', () => sent.push('b'));
    expect(sent).toEqual(['a', 'b']);
    expect(replies.settle('start', 'listening')).toBe(true);
    expect(replies.settle('start', new Error('start_failed'))).toBe(true);
    expect(replies.settle('start', 'unasked')).toBe(false);
    await expect(first).resolves.toBe('listening');
    await expect(second).rejects.toThrow('start_failed');
  });

  it('fails every pending wait once the process is gone, and every later one at once', async () => {
    const replies = new PendingReplies();
    const ping = replies.wait('pong:1', 'ping', () => {});
    const stats = replies.wait('stats:2', 'get_stats', () => {});
    replies.failAll(gone);
    await expect(ping).rejects.toThrow('gone before answering ping');
    await expect(stats).rejects.toThrow('gone before answering get_stats');
    let sent = false;
    await expect(replies.wait('stop', 'stop', () => (sent = true))).rejects.toThrow('not running for stop');
    expect(sent).toBe(false);
    expect(replies.settle('pong:1', 1)).toBe(false);
  });
});
