/**
 * sidecar/client.ts: what the host is told about a request target. An absolute-form target
 * (RFC 9112 §3.2.2) gives the URL's path and query, never the scheme and host as a "path".
 */
import { describe, expect, it } from 'vitest';
import { parseRequestUrl } from '../../sidecar/client.js';

describe('parseRequestUrl', () => {
  it('splits an origin-form target at the first ?', () => {
    expect(parseRequestUrl('/x?q=1&r=?')).toEqual({ path: '/x', query: 'q=1&r=?' });
    expect(parseRequestUrl('/x')).toEqual({ path: '/x', query: '' });
    expect(parseRequestUrl(undefined)).toEqual({ path: '/', query: '' });
  });

  it('takes the path and query of an absolute-form target', () => {
    expect(parseRequestUrl('http://evil.example/x?q=1')).toEqual({ path: '/x', query: 'q=1' });
    expect(parseRequestUrl('ws://evil.example:8080')).toEqual({ path: '/', query: '' });
    expect(parseRequestUrl('https://evil.example?q=1')).toEqual({ path: '/', query: 'q=1' });
  });
});
