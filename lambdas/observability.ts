import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from './topology';

/**
 * One logger and one metrics instance per Lambda module. Logs are JSON; card data never goes in: callers log
 * ids and field paths only (DESIGN §2 rule 14).
 */
/** Keys whose values are card data or credentials wherever they appear in a log entry. */
const SENSITIVE_KEYS = new Set(['tokenInfo', 'tokenPan', 'pan', 'encryptedData', 'cryptogram', 'sealedCredentials', 'authorization', 'apiKey', 'dpan', 'fpan']);
/**
 * A run of 13–19 digits, possibly grouped by spaces or dashes: what a PAN looks like in free text. Not 12: AWS
 * account ids (in every function ARN) have 12 digits, and 12-digit PANs are vanishingly rare.
 */
const PAN_LIKE = /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g;

/**
 * The last line of defence for rule 14: callers log ids and field paths only, and anything that still looks like
 * card data (a Luhn-valid run of 13–19 digits) is masked before the line is written. Applied to every key/value
 * Powertools serialises.
 */
export function redactLogValue(key: string, value: unknown): unknown {
  if (SENSITIVE_KEYS.has(key)) return '[REDACTED]';
  if (typeof value === 'string') return value.replace(PAN_LIKE, (run) => (looksLikePan(run.replace(/[ -]/g, '')) ? '[PAN-REDACTED]' : run));
  return value;
}

/** Luhn-valid, and not an epoch-millisecond timestamp (13 digits, 2001–2033), which logs carry all the time. */
function looksLikePan(digits: string): boolean {
  if (digits.length === 13 && Number(digits) >= 1e12 && Number(digits) < 2e12) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
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
