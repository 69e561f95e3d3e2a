import {
  FALLBACK_HANDLER,
  HANDLERS,
  HTTP_ROUTES,
  QUEUE_CONSUMERS,
  type ApiName,
  type HandlerName,
  type HandlerNeeds,
  type HttpRoute,
  type QueueConsumer,
} from '../lambdas/topology';

/**
 * The wiring part of lambdas/topology.ts as one value. The stack defaults to the service's own topology; the
 * infra tests pass an extended copy so IAM routes and queue consumers are exercised before the service has them.
 */
export interface Topology {
  httpRoutes: readonly HttpRoute[];
  fallbackHandler: HandlerName;
  queueConsumers: readonly QueueConsumer[];
  handlers: Record<HandlerName, HandlerNeeds>;
}

export const SERVICE_TOPOLOGY: Topology = {
  httpRoutes: HTTP_ROUTES,
  fallbackHandler: FALLBACK_HANDLER,
  queueConsumers: QUEUE_CONSUMERS,
  handlers: HANDLERS,
};

/** A Record, so adding an `ApiName` without describing its API fails to compile. */
export const APIS: Record<ApiName, { description: string }> = {
  backoffice: { description: 'Issuer back office and merchant/PSP backends: LCM operations, token reads (SigV4/IAM)' },
  webhooks: { description: 'Thales D1 callbacks: notifyVirtualCardChange and notify-token-update' },
};
export const API_NAMES = Object.keys(APIS) as ApiName[];
