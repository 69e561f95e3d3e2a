import { SqsQueue, sqsClient } from '../adapters/sqs-queue';
import { defineHandler } from '../http/define-routes';
import type { VirtualCardChange } from '../domain/virtual-card-change';
import { ApiError, forbidden } from '../http/errors';
import { logger, metrics, MetricUnit } from '../observability';
import { recordVirtualCardChange } from '../use-cases/record-virtual-card-change';
import { spec } from './notify-virtual-card-change.spec';
import { UNTRACED } from '../adapters/client-tracing';

/**
 * Untraced clients on the hot path (also apply-virtual-card-change, notify-token-update, apply-token-update).
 * Tracing stays ACTIVE: Lambda records every invocation's segment (init, invocation, overhead) and the SDK forwards
 * the trace header with SendMessage, so a callback's trace still runs webhook → queue → apply. Capturing the
 * clients would add only the subsegments of each SDK call, and costs the X-Ray SDK in the bundle (~120 KB with the
 * Powertools Tracer, semver and cls-hooked: most of what put these bundles over 1.3x the bare-client baseline, bench
 * section 6), its load at every cold start, and in Lambda its automatic mode's async hook on every promise of
 * every invocation (lambdas/config/xray-mode.ts). The SDK calls' latencies are in CloudWatch (SQS and DynamoDB
 * metrics, Lambda Duration); not worth that cost on the path every callback takes.
 */

/**
 * `POST /issuer/igwapi/v2.0/notifyVirtualCardChange` — D1's callback. Validates, queues durably, answers 200 {}.
 * A missing or malformed `x-issuer-id` is a 400 of the header check; a well-formed other issuer is a 403.
 */
export const handler = defineHandler(
  spec,
  (env) => ({ issuerId: env.ISSUER_ID, queue: new SqsQueue<VirtualCardChange>(sqsClient(UNTRACED), env.ISSUER_CALLBACKS_QUEUE_URL), now: () => new Date() }),
  {
    notifyVirtualCardChange: {
      authenticate: (headers, { issuerId }) => {
        const given = headers['x-issuer-id'];
        if (given !== undefined && given.length === 10 && given !== issuerId) throw forbidden('x-issuer-id is not this issuer');
      },
      handle: async ({ headers, body }, deps) => {
        let change: VirtualCardChange;
        try {
          change = await recordVirtualCardChange(deps, headers['x-correlation-id'], body);
        } catch (err) {
          // Not recorded: a 5xx makes D1 deliver it again.
          metrics.addMetric('CallbackRecordFailures', MetricUnit.Count, 1);
          logger.error('callback not recorded', { correlationId: headers['x-correlation-id'], virtualCardId: body.virtualCardId, error: err as Error });
          throw new ApiError(503, 'UNAVAILABLE', 'callback could not be recorded, retry');
        }
        metrics.addMetric('CallbacksReceived', MetricUnit.Count, 1);
        // DEBUG: one line per callback is the hot path's largest CPU cost after the SDK (and CloudWatch Logs is billed
        // per GB); API Gateway's access log and the CallbacksReceived metric already say that D1 called.
        logger.debug('callback recorded', { correlationId: change.correlationId, virtualCardId: change.virtualCardId, action: change.action });
        return { status: 200, body: {} };
      },
    },
  },
);
