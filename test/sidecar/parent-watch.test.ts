import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchParent } from '../../sidecar/parent-watch.js';

afterEach(() => vi.useRealTimers());

describe('watchParent', () => {
  it('calls onGone once when the parent pid changes (Unix re-parented the sidecar)', () => {
    vi.useFakeTimers();
    let parent = 100;
    const onGone = vi.fn();
    watchParent(onGone, { parentPid: 100, readParentPid: () => parent, isAlive: () => true });
    vi.advanceTimersByTime(1000);
    expect(onGone).not.toHaveBeenCalled();
    parent = 1;
    vi.advanceTimersByTime(200);
    expect(onGone).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(onGone).toHaveBeenCalledTimes(1);
  });

  it('calls onGone when the parent pid names no process any more (Windows re-parents nobody)', () => {
    vi.useFakeTimers();
    let alive = true;
    const onGone = vi.fn();
    watchParent(onGone, { intervalMs: 50, parentPid: 7, readParentPid: () => 7, isAlive: (pid) => pid === 7 && alive });
    vi.advanceTimersByTime(100);
    alive = false;
    vi.advanceTimersByTime(50);
    expect(onGone).toHaveBeenCalledTimes(1);
  });

  it('stops looking once the returned function is called', () => {
    vi.useFakeTimers();
    const onGone = vi.fn();
    const stop = watchParent(onGone, { parentPid: 5, readParentPid: () => 6 });
    stop();
    vi.advanceTimersByTime(1000);
    expect(onGone).not.toHaveBeenCalled();
  });

  it('takes the real parent by default, which is alive', () => {
    vi.useFakeTimers();
    const onGone = vi.fn();
    const stop = watchParent(onGone);
    vi.advanceTimersByTime(600);
    stop();
    expect(onGone).not.toHaveBeenCalled();
  });

  it('refuses impossible options with a TypeError', () => {
    expect(() => watchParent(() => {}, { intervalMs: 0 })).toThrow(new TypeError('intervalMs must be a positive integer'));
    expect(() => watchParent(() => {}, { parentPid: -1 })).toThrow(new TypeError('parentPid must be a non-negative integer'));
  });
});
