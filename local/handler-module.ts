import type { HandlerName } from '../lambdas/topology';

/** The `handler` export of `lambdas/handlers/<name>`: the module Lambda runs, loaded on first use like a cold start. */
export async function handlerOf<H>(name: HandlerName): Promise<H> {
  const mod = (await import(`../lambdas/handlers/${name}`)) as { handler: H };
  return mod.handler;
}
