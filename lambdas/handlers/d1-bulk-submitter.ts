import { submitRecord, submitterDeps } from '../composition/d1-submission';
import { secretsManagerFetcher } from '../config/secrets-manager';
import { defineHandler } from '../sqs/define-consumer';
import { spec } from './d1-bulk-submitter.spec';

/** SQS consumer of d1-bulk-requests: the d1-submitter on the bulk lane of the D1 pace (what interactive calls leave). */
export const handler = defineHandler(spec, (env) => submitterDeps(env, 'bulk', env.D1_BULK_REQUESTS_QUEUE_URL), submitRecord, {
  fetchSecret: secretsManagerFetcher(),
});
