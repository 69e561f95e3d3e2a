import { SqsQueue, sqsClient } from '../adapters/sqs-queue';
import { defineHandler } from '../http/define-routes';
import type { TokenUpdate } from '../domain/network-token';
import { apiKeyMatches } from '../http/api-key';
import { ApiError, unauthorized } from '../http/errors';
import { logger, metrics, MetricUnit } from '../observability';
import { recordTokenUpdate } from '../use-cases/record-token-update';
import { spec } from './notify-token-update.spec';
import { UNTRACED } from '../adapters/client-tracing';
import { secretsManagerFetcher } from '../config/secrets-manager';

/**
 * `POST /tsh-cof/notify-token-update` — D1 tells the token requestor a network token changed. APIKEY checked in
 * constant time (401), validated, queued, then 204 — also for what will turn out to be a duplicate or stale.
 * Untraced clients (UNTRACED), as on the whole hot path: why in notify-virtual-card-change.ts.
 */
export const handler = defineHandler(
  spec,
  (env) => ({ apiKey: env.TR_API_KEY, queue: new SqsQueue<TokenUpdate>(sqsClient(UNTRACED), env.TOKEN_UPDATES_QUEUE_URL), now: () => new Date() }),
  {
    notifyTokenUpdate: {
      authenticate: (headers, { apiKey }) => {
        if (!apiKeyMatches(headers.authorization, apiKey)) throw unauthorized();
      },
      handle: async ({ headers, body }, deps) => {
        try {
          await recordTokenUpdate(deps, headers['x-correlation-id'], body);
        } catch (err) {
          metrics.addMetric('TokenUpdateRecordFailures', MetricUnit.Count, 1);
          logger.error('token update not recorded', { correlationId: headers['x-correlation-id'], tokenId: body.tokenId, error: err as Error });
          throw new ApiError(503, 'UNAVAILABLE', 'token update could not be recorded, retry');
        }
        metrics.addMetric('TokenUpdatesReceived', MetricUnit.Count, 1);
        // DEBUG like 'callback recorded' (notify-virtual-card-change.ts): the access log and the metric cover it.
        logger.debug('token update recorded', { correlationId: headers['x-correlation-id'], tokenId: body.tokenId });
        return { status: 204 };
      },
    },
  },
  { fetchSecret: secretsManagerFetcher() },
);
