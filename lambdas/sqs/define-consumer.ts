import type { SQSRecord } from 'aws-lambda';
import { defineHandlerWith, type KindBuilder } from '../define-handler-core';
import { sqsConsumer } from './consumer';

/** Each record of the batch processed with the composed dependencies, failures reported per record. */
export const queueConsumerHandler: KindBuilder = (_spec, impl, deps) => {
  const processRecord = impl as (record: SQSRecord, deps: unknown) => Promise<void>;
  return sqsConsumer(async (record) => processRecord(record, await deps()));
};

/** `defineHandler` (lambdas/define-handler-core.ts) for a spec that consumes a queue. */
export const defineHandler = defineHandlerWith({ consumes: queueConsumerHandler });
