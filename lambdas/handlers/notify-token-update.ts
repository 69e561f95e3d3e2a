import { SqsQueue, sqsClient } from '../adapters/sqs-queue';
import { loadEnv } from '../config/env';
import { withSecrets } from '../config/secrets';
import type { TokenUpdate } from '../domain/network-token';
import { notifyTokenUpdateBody, notifyTokenUpdateHeaders } from '../domain/schemas';
import { apiKeyMatches } from '../http/api-key';
import { ApiError, unauthorized } from '../http/errors';
import { httpRoute } from '../http/route';
import { logger, metrics, MetricUnit } from '../observability';
import { recordTokenUpdate } from '../use-cases/token-updates';


/**
 * `POST /tsh-cof/notify-token-update` — D1 tells the token requestor a network token changed. APIKEY checked in
 * constant time (401), validated, queued, then 204 — also for what will turn out to be a duplicate or stale.
 */
export const handler = withSecrets(['TR_API_KEY'], () => {
  const env = loadEnv(['TR_API_KEY', 'TOKEN_UPDATES_QUEUE_URL']);
  const queue = new SqsQueue<TokenUpdate>(sqsClient(), env.TOKEN_UPDATES_QUEUE_URL);
  return httpRoute(
    {
      name: 'notifyTokenUpdate',
      headers: notifyTokenUpdateHeaders,
      body: notifyTokenUpdateBody,
      countRejections: true,
      authenticate: (headers) => {
        if (!apiKeyMatches(headers.authorization, env.TR_API_KEY)) throw unauthorized();
      },
    },
    async ({ headers, body }) => {
      try {
        await recordTokenUpdate({ queue, now: () => new Date() }, headers['x-correlation-id'], body);
      } catch (err) {
        metrics.addMetric('TokenUpdateRecordFailures', MetricUnit.Count, 1);
        logger.error('token update not recorded', { correlationId: headers['x-correlation-id'], tokenId: body.tokenId, error: err as Error });
        throw new ApiError(503, 'UNAVAILABLE', 'token update could not be recorded, retry');
      }
      metrics.addMetric('TokenUpdatesReceived', MetricUnit.Count, 1);
      logger.info('token update recorded', { correlationId: headers['x-correlation-id'], tokenId: body.tokenId });
      return { status: 204 };
    },
  );
});
