import { defineHandlerWith } from './define-handler-core';
import { routesHandler } from './http/define-routes';
import { queueConsumerHandler } from './sqs/define-consumer';
import { streamConsumerHandler } from './streams/define-stream-consumer';

/**
 * `defineHandler` for every kind of spec (lambdas/define-handler-core.ts). The handler modules import the one of
 * their kind instead, so each bundle carries only its own wrapper's runtime (middy and the route checks, or
 * Powertools' batch processor); this one is for tests and tools that build handlers of any kind.
 */
export * from './define-handler-core';
export const defineHandler = defineHandlerWith({ routes: routesHandler, consumes: queueConsumerHandler, consumesTableStream: streamConsumerHandler });
