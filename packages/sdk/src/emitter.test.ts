import { afterEach, describe, expect, it, vi } from 'vitest';
import { TypedEmitter } from './emitter.js';

interface Events {
  tick: number;
  name: string;
}

describe('TypedEmitter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('calls handlers with the payload, in the order they were added', () => {
    const e = new TypedEmitter<Events>();
    const seen: string[] = [];
    e.on('tick', (n) => seen.push(`a${n}`));
    e.on('tick', (n) => seen.push(`b${n}`));
    e.on('name', (s) => seen.push(s));
    expect(e.emit('tick', 1)).toBe(true);
    e.emit('name', 'x');
    expect(seen).toEqual(['a1', 'b1', 'x']);
  });

  it('removes handlers with off, including once-handlers by their original function', () => {
    const e = new TypedEmitter<Events>();
    const h = vi.fn();
    const o = vi.fn();
    e.on('tick', h).once('tick', o);
    e.off('tick', h).off('tick', o);
    expect(e.emit('tick', 1)).toBe(false);
    expect(h).not.toHaveBeenCalled();
    expect(o).not.toHaveBeenCalled();
    expect(e.listenerCount('tick')).toBe(0);
  });

  it('runs once-handlers once', () => {
    const e = new TypedEmitter<Events>();
    const o = vi.fn();
    e.once('tick', o);
    e.emit('tick', 1);
    e.emit('tick', 2);
    expect(o).toHaveBeenCalledTimes(1);
    expect(o).toHaveBeenCalledWith(1);
  });

  it('tolerates handlers removed while emitting', () => {
    const e = new TypedEmitter<Events>();
    const second = vi.fn();
    e.on('tick', () => e.off('tick', second));
    e.on('tick', second);
    e.emit('tick', 1);
    expect(second).toHaveBeenCalledTimes(1); // snapshot taken before the loop
    e.emit('tick', 2);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('keeps calling other handlers when one throws, and rethrows asynchronously', () => {
    vi.useFakeTimers();
    const e = new TypedEmitter<Events>();
    const after = vi.fn();
    e.on('tick', () => {
      throw new Error('boom');
    });
    e.on('tick', after);
    e.emit('tick', 1);
    expect(after).toHaveBeenCalledWith(1);
    expect(() => vi.runAllTimers()).toThrow('boom');
  });

  it('emitting without handlers is a no-op', () => {
    const e = new TypedEmitter<Events>();
    expect(e.emit('name', 'nobody')).toBe(false);
    e.on('name', () => undefined).removeAllListeners();
    expect(e.listenerCount('name')).toBe(0);
  });
});
