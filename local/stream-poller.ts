import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

export type StreamHandler = (event: DynamoDBStreamEvent, context: ReturnType<typeof lambdaContext>) => Promise<DynamoDBBatchResponse | void>;

export interface StreamPollerOptions {
  streams: DynamoDBStreamsClient;
  ddb: DynamoDBClient;
  tableName: string;
  handler: StreamHandler;
  /** Lambda function name, for the context and logs. */
  name: string;
  batchSize: number;
  /** Invocations retried on a failing record before it is skipped (Lambda's on-failure destination); -1 = forever. */
  retryAttempts: number;
  /** Pause between reads of a shard that had nothing new. */
  idleIntervalMs?: number;
  log?: (line: string) => void;
}

export interface StreamPoller {
  stop(): Promise<void>;
  /** Records read from the stream and not yet handled (a batch being processed or waiting for its retry). */
  readonly inFlight: number;
  /** Resolves once every shard has been read to its end and everything read was handled. */
  caughtUp(): Promise<void>;
}

/** The record Lambda's DynamoDB event source builds from a stream record. */
export function toDynamoDbRecord(record: StreamRecord, streamArn: string, readAt: number = Date.now()): DynamoDBRecord {
  const data = record.dynamodb ?? {};
  return {
    eventID: record.eventID ?? '',
    eventName: record.eventName ?? 'MODIFY',
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? 'ddblocal',
    eventSourceARN: streamArn,
    dynamodb: {
      // The SDK's AttributeValue objects are the JSON shape Lambda hands over (no binary attributes here).
      ...(data.Keys ? { Keys: data.Keys as never } : {}),
      ...(data.NewImage ? { NewImage: data.NewImage as never } : {}),
      ...(data.OldImage ? { OldImage: data.OldImage as never } : {}),
      ...(data.SequenceNumber ? { SequenceNumber: data.SequenceNumber } : {}),
      ...(data.SizeBytes !== undefined ? { SizeBytes: data.SizeBytes } : {}),
      ...(data.StreamViewType ? { StreamViewType: data.StreamViewType } : {}),
      // Lambda gives epoch seconds, rounded down. DynamoDB Local's own value is cut to the minute, which would date a
      // change up to a minute early: the time the poller read it (the change committed before) is the honest bound.
      ApproximateCreationDateTime: Math.floor(readAt / 1000),
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What Lambda's DynamoDB Streams event source mapping does, locally, on DynamoDB Local's own stream: each shard
 * read in order from its start, one batch at a time; a batch whose handler throws is retried whole, one that
 * reports a failed record (ReportBatchItemFailures) is retried from that record on; after `retryAttempts` the
 * failing record is skipped with a log line (AWS sends it to the on-failure destination). Shards are followed
 * as DynamoDB Local opens new ones.
 */
export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  let running = true;
  let inFlight = 0;
  const idleMs = options.idleIntervalMs ?? 25;
  /** Shards being read, by id → the iterator to read next (null once closed and read to its end). */
  const iterators = new Map<string, string | null>();
  /** When the latest read of each shard that returned nothing began: that read saw every record written before. */
  const caughtUpSince = new Map<string, number>();
  let streamArn: string | undefined;

  const discover = async (): Promise<void> => {
    if (!streamArn) {
      // The table's own latest stream (ListStreams may list a stream of another table, or an older one).
      const { Table } = await options.ddb.send(new DescribeTableCommand({ TableName: options.tableName }));
      streamArn = Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
    }
    const described = await options.streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of described.StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || iterators.has(shard.ShardId)) continue;
      const iterator = await options.streams.send(
        new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      iterators.set(shard.ShardId, iterator.ShardIterator ?? null);
    }
  };

  /** Invokes the handler until the batch is handled (or its failing record is given up on). */
  const handle = async (records: DynamoDBRecord[]): Promise<void> => {
    let pending = records;
    let attempts = 0;
    while (pending.length > 0 && running) {
      let failedAt: number;
      try {
        const response = await options.handler({ Records: pending }, lambdaContext(options.name));
        const failed = response?.batchItemFailures?.[0]?.itemIdentifier;
        failedAt = failed === undefined ? -1 : pending.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
      } catch (err) {
        options.log?.(`${options.name}: handler threw, batch of ${pending.length} retried: ${(err as Error).message}`);
        failedAt = 0;
      }
      if (failedAt < 0) return;
      pending = pending.slice(failedAt);
      attempts++;
      if (options.retryAttempts >= 0 && attempts > options.retryAttempts) {
        options.log?.(`${options.name}: record ${pending[0]?.dynamodb?.SequenceNumber} failed ${attempts} times, skipped`);
        pending = pending.slice(1);
        attempts = 0;
        continue;
      }
      await sleep(Math.min(5_000, 100 * 2 ** Math.min(attempts, 6)));
    }
  };

  /** The last record of each shard handled (or given up on): where a fresh iterator resumes. */
  const lastHandled = new Map<string, string>();

  /**
   * A new iterator for a shard whose iterator stopped working: expired (AWS and DynamoDB Local expire them after
   * 15 minutes) or pointing at records trimmed meanwhile. Resumes right after the last record handled, so nothing
   * is skipped or handled twice; from the shard's oldest record when nothing was handled yet.
   */
  const renewIterator = async (shardId: string): Promise<void> => {
    const after = lastHandled.get(shardId);
    const from = async (position: { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER'; SequenceNumber: string } | { ShardIteratorType: 'TRIM_HORIZON' }) =>
      (await options.streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ...position }))).ShardIterator ?? null;
    try {
      iterators.set(
        shardId,
        after ? await from({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }) : await from({ ShardIteratorType: 'TRIM_HORIZON' }),
      );
    } catch (err) {
      if ((err as Error).name !== 'TrimmedDataAccessException') throw err;
      // The record after the last one handled is gone (AWS: older than 24 h): from the oldest one still there.
      options.log?.(`${options.name}: records after ${after} on ${shardId} were trimmed before they were read`);
      iterators.set(shardId, await from({ ShardIteratorType: 'TRIM_HORIZON' }));
    }
  };

  const readShard = async (shardId: string, iterator: string): Promise<boolean> => {
    const startedAt = Date.now();
    let result;
    try {
      result = await options.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: options.batchSize }));
    } catch (err) {
      const name = (err as Error).name;
      if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw err;
      options.log?.(`${options.name}: ${name} on ${shardId}, resuming after ${lastHandled.get(shardId) ?? 'the oldest record'}`);
      await renewIterator(shardId);
      return true;
    }
    const records = result.Records ?? [];
    // Every record returned was committed by the time the answer came.
    const receivedAt = Date.now();
    if (records.length === 0) caughtUpSince.set(shardId, startedAt);
    else {
      inFlight += records.length;
      try {
        await handle(records.map((r) => toDynamoDbRecord(r, streamArn!, receivedAt)));
      } finally {
        inFlight -= records.length;
      }
      const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
      if (last) lastHandled.set(shardId, last);
    }
    iterators.set(shardId, result.NextShardIterator ?? null);
    return records.length > 0;
  };

  const loop = async (): Promise<void> => {
    let lastDiscovery = 0;
    while (running) {
      try {
        if (Date.now() - lastDiscovery > 1_000) {
          await discover();
          lastDiscovery = Date.now();
        }
        let read = false;
        // Shards one after the other: DynamoDB Local has one per table in practice, and order per item holds anyway.
        for (const [shardId, iterator] of iterators) {
          if (!running) break;
          if (iterator === null) continue;
          if (await readShard(shardId, iterator)) read = true;
        }
        if (!read) await sleep(idleMs);
      } catch (err) {
        if (!running) return;
        options.log?.(`${options.name}: stream read failed: ${(err as Error).message}`);
        await sleep(500);
      }
    }
  };

  const running$ = loop();
  return {
    get inFlight() {
      return inFlight;
    },
    async caughtUp() {
      // Every open shard read empty by a read that began after this call (so it saw every earlier write), and
      // nothing in hand; records the handler itself writes (the event log) are read and handled too.
      const since = Date.now();
      for (;;) {
        const open = [...iterators].filter(([, it]) => it !== null).map(([id]) => id);
        if (!running || (inFlight === 0 && open.length > 0 && open.every((id) => (caughtUpSince.get(id) ?? -1) >= since))) return;
        await sleep(idleMs);
      }
    },
    async stop() {
      running = false;
      await running$;
    },
  };
}
