import { submitRecord, submitterDeps } from '../composition/d1-submission';
import { secretsManagerFetcher } from '../config/secrets-manager';
import { defineHandler } from '../sqs/define-consumer';
import { spec } from './d1-submitter.spec';

/** SQS consumer of d1-requests: one updateCardState attempt per message; concurrency capped by the event source. */
export const handler = defineHandler(spec, (env) => submitterDeps(env, env.D1_REQUESTS_QUEUE_URL), submitRecord, { fetchSecret: secretsManagerFetcher() });
