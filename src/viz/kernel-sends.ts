/**
 * tslab 1.0.22 sends on its zeromq 6 sockets without waiting for the previous send to finish.
 * zeromq 6 rejects an overlapping send with EBUSY ("Socket is busy writing"), so under a stream of
 * display updates (progress bars, live plots) a kernel status or reply message is sometimes lost,
 * or, with an emscripten module loaded, the kernel dies. Inside a kernel we queue each socket's
 * sends, one after another, in order. Outside a kernel this does nothing.
 */
/** Shared across module copies (tsx and tslab each compile this file): one queue per socket. */
const registry = globalThis as unknown as { [key: symbol]: { queues: WeakMap<object, Promise<unknown>>; patched: WeakSet<object> } };
const KEY = Symbol.for('sifd.zmqSendQueues');
const state = (registry[KEY] ??= { queues: new WeakMap(), patched: new WeakSet() });

type Send = (this: object, msg: unknown) => Promise<void>;

export function serialiseKernelSends(): boolean {
  let jupyterModule: string;
  try {
    jupyterModule = require.resolve('tslab/dist/jupyter');
  } catch {
    return false;
  }
  if (!require.cache[jupyterModule]) return false; // not inside a tslab kernel
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const zmq = require('zeromq') as { Publisher: { prototype: object } };
  // send() lives on the native Socket class every socket type extends; sockets themselves are sealed.
  let proto: object | null = zmq.Publisher.prototype;
  while (proto && !Object.prototype.hasOwnProperty.call(proto, 'send')) proto = Object.getPrototypeOf(proto);
  if (!proto) return false;
  if (state.patched.has(proto)) return true;
  const original = (proto as { send: Send }).send;
  // The native method is non-writable but configurable: redefine it.
  Object.defineProperty(proto, 'send', {
    configurable: true,
    writable: false,
    enumerable: false,
    value: function send(this: object, msg: unknown): Promise<void> {
      const previous = state.queues.get(this) ?? Promise.resolve();
      const next = previous.then(() => original.call(this, msg));
      state.queues.set(this, next.catch(() => undefined));
      return next;
    },
  });
  state.patched.add(proto);
  return true;
}
