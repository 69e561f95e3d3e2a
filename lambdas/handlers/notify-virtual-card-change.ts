import { SqsQueue, sqsClient } from '../adapters/sqs-queue';
import { loadEnv } from '../config/env';
import { notifyVirtualCardChangeBody, notifyVirtualCardChangeHeaders } from '../domain/schemas';
import type { VirtualCardChange } from '../domain/virtual-card-change';
import { ApiError, forbidden } from '../http/errors';
import { httpRoute } from '../http/route';
import { logger, metrics, MetricUnit } from '../observability';
import { recordVirtualCardChange } from '../use-cases/record-virtual-card-change';

const env = loadEnv(['ISSUER_ID', 'ISSUER_CALLBACKS_QUEUE_URL']);
const queue = new SqsQueue<VirtualCardChange>(sqsClient(), env.ISSUER_CALLBACKS_QUEUE_URL);

/**
 * `POST /issuer/igwapi/v2.0/notifyVirtualCardChange` — D1's callback. Validates, queues durably, answers 200 {}.
 * A missing or malformed `x-issuer-id` is a 400 of the header check; a well-formed other issuer is a 403.
 */
export const handler = httpRoute(
  {
    name: 'notifyVirtualCardChange',
    headers: notifyVirtualCardChangeHeaders,
    body: notifyVirtualCardChangeBody,
    countRejections: true,
    authenticate: (headers) => {
      const issuerId = headers['x-issuer-id'];
      if (issuerId !== undefined && issuerId.length === 10 && issuerId !== env.ISSUER_ID) throw forbidden('x-issuer-id is not this issuer');
    },
  },
  async ({ headers, body }) => {
    let change: VirtualCardChange;
    try {
      change = await recordVirtualCardChange({ queue, now: () => new Date() }, headers['x-correlation-id'], body);
    } catch (err) {
      // Not recorded: a 5xx makes D1 deliver it again.
      metrics.addMetric('CallbackRecordFailures', MetricUnit.Count, 1);
      logger.error('callback not recorded', { correlationId: headers['x-correlation-id'], virtualCardId: body.virtualCardId, error: err as Error });
      throw new ApiError(503, 'UNAVAILABLE', 'callback could not be recorded, retry');
    }
    metrics.addMetric('CallbacksReceived', MetricUnit.Count, 1);
    logger.info('callback recorded', { correlationId: change.correlationId, virtualCardId: change.virtualCardId, action: change.action });
    return { status: 200, body: {} };
  },
);
