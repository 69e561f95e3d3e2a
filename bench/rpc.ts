/**
 * Request/response over the IPC channel between the bench (parent) and the service process (child). The service
 * runs in its own process so the load generator never shares an event loop with the gateway it measures, its JSON
 * logs go to a file instead of the table, and its counters and peak RSS are its own.
 */
import type { ChildProcess } from 'node:child_process';

interface RpcRequest {
  rpc: number;
  method: string;
  params: unknown;
}
interface RpcResponse {
  rpc: number;
  result?: unknown;
  error?: string;
}

export type RpcHandlers = Record<string, (params: never) => Promise<unknown> | unknown>;

/** Child side: answers the parent's calls with `handlers`. */
export function serveRpc(handlers: RpcHandlers): void {
  process.on('message', (message: RpcRequest) => {
    if (typeof message?.rpc !== 'number') return;
    const handler = handlers[message.method];
    void (async () => {
      let response: RpcResponse;
      try {
        if (!handler) throw new Error(`unknown method ${message.method}`);
        response = { rpc: message.rpc, result: await handler(message.params as never) };
      } catch (err) {
        response = { rpc: message.rpc, error: (err as Error).stack ?? String(err) };
      }
      process.send?.(response);
    })();
  });
}

/** Parent side: `call(method, params)` resolves with the child's result, or rejects with its error. */
export function rpcClient(child: ChildProcess): <T>(method: string, params?: unknown) => Promise<T> {
  let next = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  child.on('message', (message: RpcResponse) => {
    const waiter = pending.get(message?.rpc);
    if (!waiter) return;
    pending.delete(message.rpc);
    if (message.error !== undefined) waiter.reject(new Error(`service: ${message.error}`));
    else waiter.resolve(message.result);
  });
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`service process exited (${code ?? signal})`));
    pending.clear();
  });
  return <T>(method: string, params?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const rpc = ++next;
      pending.set(rpc, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ rpc, method, params } satisfies RpcRequest);
    });
}
