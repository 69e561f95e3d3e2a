import type { DynamoDBRecord } from 'aws-lambda';
import { defineHandlerWith, type KindBuilder } from '../define-handler-core';
import { tableStreamConsumer } from './table-stream-consumer';

/** The stream's records in order with the composed dependencies, stopping at the first failure. */
export const streamConsumerHandler: KindBuilder = (_spec, impl, deps) => {
  const processRecord = impl as (record: DynamoDBRecord, deps: unknown) => Promise<void>;
  return tableStreamConsumer(async (record) => processRecord(record, await deps()));
};

/** `defineHandler` (lambdas/define-handler-core.ts) for the table-stream consumer. */
export const defineHandler = defineHandlerWith({ consumesTableStream: streamConsumerHandler });
