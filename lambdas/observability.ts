import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { redactPans } from './domain/card-data';
import { METRICS_NAMESPACE, SERVICE_NAME } from './resources';

/**
 * One logger and one metrics instance per Lambda module (the X-Ray tracer is lambdas/tracing.ts, for the handlers
 * that trace their clients). Logs are JSON; card data never goes in:
 * callers log ids and field paths only (DESIGN §2 rule 14).
 */
/** Keys whose values are card data or credentials wherever they appear in a log entry. */
const SENSITIVE_KEYS = new Set(['tokenInfo', 'tokenPan', 'pan', 'encryptedData', 'cryptogram', 'sealedCredentials', 'authorization', 'apiKey', 'dpan', 'fpan']);
/**
 * The last line of defence for rule 14: callers log ids and field paths only, and anything that still looks like
 * card data (a Luhn-valid run of 13–19 digits) is masked before the line is written. Applied to every key/value
 * Powertools serialises.
 */
export function redactLogValue(key: string, value: unknown): unknown {
  if (SENSITIVE_KEYS.has(key)) return '[REDACTED]';
  if (typeof value === 'string') return redactPans(value);
  return value;
}

export const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: (process.env.LOG_LEVEL ?? 'INFO') as LogLevel, jsonReplacerFn: redactLogValue });
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
