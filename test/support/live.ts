/**
 * A stand-in for whatever `current()` returns each time a property is read: for a value a hook sets up later (a
 * stack started in beforeAll, a simulator restarted mid-file), so a file can name it at the top and read it in its
 * tests. Methods are bound to the current value. `current()` throws while there is nothing to stand for.
 */
export function liveView<T extends object>(current: () => T): T {
  return new Proxy({} as T, {
    get: (_stub, key) => {
      const target = current();
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set: (_stub, key, value) => Reflect.set(current(), key, value),
    has: (_stub, key) => Reflect.has(current(), key),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor: (_stub, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(current(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/**
 * `start()` in beforeAll, `stop()` afterAll, and a live view of what started: how a file gets its stack, named at
 * its top and read in its tests and hooks (reading it before the start throws, naming `what`).
 */
export function useStarted<T extends object>(what: string, start: () => Promise<T>, stop: (running: T) => Promise<void>): T {
  let running: T | undefined;
  beforeAll(async () => {
    running = await start();
  }, 30_000);
  afterAll(async () => {
    if (running) await stop(running);
  });
  return liveView(() => {
    if (!running) throw new Error(`${what} is not up (read it in a test or hook, after beforeAll)`);
    return running;
  });
}
