/** A handler for the payload of event `K` of map `E`. */
export type Handler<E, K extends keyof E> = (data: E[K]) => void;

/**
 * A small typed event emitter that works the same in browsers and Node. Each event carries one
 * payload. A throwing handler does not stop the others or the SDK: its error is rethrown on a
 * fresh task so it still surfaces as an uncaught error.
 *
 * @example
 * const emitter = new TypedEmitter<{ tick: number }>();
 * emitter.on('tick', (n) => console.log(n));
 * emitter.emit('tick', 1);
 */
export class TypedEmitter<E> {
  private readonly handlers = new Map<keyof E, Set<Handler<E, keyof E>>>();

  /**
   * Adds a handler.
   *
   * @example
   * client.on('messageAdded', (message) => console.log(message.body));
   */
  on<K extends keyof E>(name: K, handler: Handler<E, K>): this {
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
    }
    set.add(handler as Handler<E, keyof E>);
    return this;
  }

  /**
   * Removes a handler added with {@link on} or {@link once}.
   *
   * @example
   * client.off('messageAdded', onMessage);
   */
  off<K extends keyof E>(name: K, handler: Handler<E, K>): this {
    const set = this.handlers.get(name);
    if (!set) return this;
    set.delete(handler as Handler<E, keyof E>);
    for (const h of set) {
      if ((h as Partial<OnceWrapper<E, K>>).original === handler) set.delete(h);
    }
    if (set.size === 0) this.handlers.delete(name);
    return this;
  }

  /**
   * Adds a handler that runs at most once.
   *
   * @example
   * client.once('connectionStateChanged', (state) => console.log('now', state));
   */
  once<K extends keyof E>(name: K, handler: Handler<E, K>): this {
    const wrapper: OnceWrapper<E, K> = Object.assign(
      (data: E[K]) => {
        this.off(name, wrapper);
        handler(data);
      },
      { original: handler },
    );
    return this.on(name, wrapper);
  }

  /**
   * Number of handlers for `name`.
   *
   * @example
   * if (client.listenerCount('error') === 0) console.warn('nobody handles errors');
   */
  listenerCount<K extends keyof E>(name: K): number {
    return this.handlers.get(name)?.size ?? 0;
  }

  /**
   * Removes every handler, or every handler of one event.
   *
   * @example
   * client.removeAllListeners();
   */
  removeAllListeners<K extends keyof E>(name?: K): this {
    if (name === undefined) this.handlers.clear();
    else this.handlers.delete(name);
    return this;
  }

  /**
   * Calls every handler of `name` with `data`; returns whether there was one. Used by the SDK
   * itself; applications normally only listen.
   *
   * @example
   * emitter.emit('tick', 2);
   */
  emit<K extends keyof E>(name: K, data: E[K]): boolean {
    const set = this.handlers.get(name);
    if (!set || set.size === 0) return false;
    for (const handler of [...set]) {
      try {
        (handler as Handler<E, K>)(data);
      } catch (err) {
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
    return true;
  }
}

type OnceWrapper<E, K extends keyof E> = Handler<E, K> & { original: Handler<E, K> };
