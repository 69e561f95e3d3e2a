import {
  FALLBACK_HANDLER,
  HANDLERS,
  HTTP_ROUTES,
  QUEUE_CONSUMERS,
  SCHEDULES,
  TABLE_STREAM_CONSUMERS,
  type ApiName,
  type HandlerName,
  type HandlerNeeds,
  type HttpRoute,
  type QueueConsumer,
  type Schedule,
  type TableStreamConsumer,
} from '../lambdas/topology';

/**
 * The wiring part of lambdas/topology.ts as one value. The stack defaults to the service's own topology; the
 * infra tests pass an extended copy so IAM routes, queue and stream consumers and schedules are exercised beyond what the
 * service has today.
 */
export interface Topology {
  httpRoutes: readonly HttpRoute[];
  fallbackHandler: HandlerName;
  queueConsumers: readonly QueueConsumer[];
  /** Handlers the table's change stream invokes (DynamoDB Streams event source mappings). */
  tableStreamConsumers: readonly TableStreamConsumer[];
  /** Handlers run on a timer: one EventBridge rule per entry. */
  schedules: readonly Schedule[];
  handlers: Record<HandlerName, HandlerNeeds>;
}

export const SERVICE_TOPOLOGY: Topology = {
  httpRoutes: HTTP_ROUTES,
  fallbackHandler: FALLBACK_HANDLER,
  queueConsumers: QUEUE_CONSUMERS,
  tableStreamConsumers: TABLE_STREAM_CONSUMERS,
  schedules: SCHEDULES,
  handlers: HANDLERS,
};

/** A Record, so adding an `ApiName` without describing its API fails to compile. */
export const APIS: Record<ApiName, { description: string }> = {
  backoffice: {
    description: 'Issuer back office and merchant/PSP backends: LCM operations, token reads, reconciliation, network-token credentials (SigV4/IAM)',
  },
  webhooks: { description: 'Thales D1 callbacks: notifyVirtualCardChange and notify-token-update' },
};
export const API_NAMES = Object.keys(APIS) as ApiName[];
