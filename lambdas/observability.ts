import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from './topology';

/**
 * One logger and one metrics instance per Lambda module. Logs are JSON; card data never goes in: callers log
 * ids and field paths only (DESIGN §2 rule 14).
 */
export const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: (process.env.LOG_LEVEL ?? 'INFO') as LogLevel });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export { MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * Flushes the metrics a request recorded, as EMF. Powertools' own `logMetrics` middleware warns on every
 * invocation that recorded none (health checks, reads), so this one publishes only when there is something.
 */
export function publishMetrics(): { after: () => void; onError: () => void } {
  const flush = (): void => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
