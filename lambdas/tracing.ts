// First: the X-Ray SDK must see its mode before @aws-lambda-powertools/tracer loads it (see config/xray-mode.ts).
import './config/xray-mode';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { ClientTracing } from './adapters/client-tracing';
import { SERVICE_NAME } from './resources';

/**
 * X-Ray for the AWS SDK clients (`traceClient`, given to the adapters that build them) and for outbound HTTP,
 * under the segment Lambda opens with active tracing. Powertools turns it off outside Lambda (no
 * AWS_EXECUTION_ENV): there, tests, `npm start` and the bench get the clients back unwrapped and send nothing.
 *
 * Only the handlers that import this module carry the X-Ray SDK; the callback and token-update hot path does not
 * (see lambdas/adapters/client-tracing.ts and the hot-path handlers).
 */
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** The client with X-Ray subsegments for each of its calls (when tracing is on). */
export const traceClient: ClientTracing = (client) => tracer.captureAWSv3Client(client);
