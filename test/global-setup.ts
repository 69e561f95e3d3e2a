import { startLocalAws, type LocalAwsEngines } from '../local/local-aws';

declare global {
  var __LOCAL_AWS__: LocalAwsEngines | undefined;
}

/**
 * One DynamoDB Local + fauxqs for the whole run, on free ports (an orphan from an earlier run cannot collide).
 * Test files provision their own prefixed table and queues (test/support/stack.ts), so they never share data.
 */
export default async function globalSetup(): Promise<void> {
  const engines = await startLocalAws();
  globalThis.__LOCAL_AWS__ = engines;
  Object.assign(process.env, engines.env, {
    LOCAL_DDB_ENDPOINT: engines.ddbEndpoint,
    LOCAL_SQS_ENDPOINT: engines.sqsEndpoint,
  });
}
