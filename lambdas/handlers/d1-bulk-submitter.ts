import { submitRecord, submitterDeps } from '../composition/d1-submission';
import { secretsManagerFetcher } from '../config/secrets-manager';
import { defineHandler } from '../sqs/define-consumer';
import { spec } from './d1-bulk-submitter.spec';

/** SQS consumer of d1-bulk-requests: the d1-submitter's attempt, on the bulk jobs' lane (the job runner paces what enters it). */
export const handler = defineHandler(spec, (env) => submitterDeps(env, env.D1_BULK_REQUESTS_QUEUE_URL), submitRecord, { fetchSecret: secretsManagerFetcher() });
