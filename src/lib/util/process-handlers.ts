/**
 * Emscripten builds (tfjs-backend-wasm, OpenCV.js) install process-wide `uncaughtException` and
 * `unhandledRejection` handlers that rethrow, turning any stray rejection anywhere in the process
 * into a crash. In a tslab kernel that kills the notebook: tslab's own zeromq sends occasionally
 * reject (EBUSY when two sends overlap), which tslab means to log and survive. Loaders of such
 * builds run inside `withoutNewProcessHandlers`, which removes whatever handlers the load added.
 */
const EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

export async function withoutNewProcessHandlers<T>(load: () => T | Promise<T>): Promise<T> {
  const proc = process as unknown as NodeJS.EventEmitter;
  const before = EVENTS.map((e) => new Set(proc.listeners(e)));
  try {
    return await load();
  } finally {
    EVENTS.forEach((e, k) => {
      for (const l of proc.listeners(e)) if (!before[k].has(l)) proc.removeListener(e, l as (...args: unknown[]) => void);
    });
  }
}
