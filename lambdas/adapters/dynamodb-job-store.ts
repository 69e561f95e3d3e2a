import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { EMPTY_COUNTS, type CardSettlement, type Job, type JobCard, type JobCardStatus, type JobCounts } from '../domain/job';
import type { ClaimResult, CreateJobResult, JobStore } from '../ports/job-store';
import type { IdempotencyClaim } from '../ports/operation-store';
import type { Page, PageRequest } from '../ports/token-store';
import { TABLE } from '../resources';
import { batchGetInOrder, tableKeyOf } from './dynamodb-batch-get';
import { indexPage } from './dynamodb-index-page';
import { decodePageToken, encodePageToken } from './pagination';

/**
 * Item layout (single table), one partition per job:
 *   job              pk=JOB#<jobId>  sk=JOB                  the Job: status, counts (top-level numbers), tick generation
 *   job card         pk=JOB#<jobId>  sk=CARD#<issuerCardRefId>  status, operationId; gsi1pk=JOBCARDS#<jobId>#<status>
 *   idempotency key  pk=JOBIDEM#<key> sk=IDEM                requestHash, jobId, expiresAt (TTL)
 * Every change of a card moves the job's counts in the same transaction, so the counts add up at every instant.
 */
const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: 'JOB' });
const cardKey = (jobId: string, issuerCardRefId: string) => ({ pk: `JOB#${jobId}`, sk: `CARD#${issuerCardRefId}` });
const idempotencyKey = (key: string) => ({ pk: `JOBIDEM#${key}`, sk: 'IDEM' });
/** The sparse gsi1 entry of a card: the job's cards by status, in issuerCardRefId order. */
const byStatus = (jobId: string, status: JobCardStatus): string => `JOBCARDS#${jobId}#${status}`;
const GSI = TABLE.globalIndexes[0];

const COUNT_NAMES = Object.keys(EMPTY_COUNTS) as (keyof JobCounts)[];

/** TransactWriteItems takes 100 items: 99 card puts and the job's update. */
const CARDS_PER_TRANSACTION = 99;
const MAX_CHUNK_ROUNDS = 12;

function jobFromItem(item: Record<string, unknown>): Job {
  return {
    jobId: String(item.jobId),
    action: item.action as Job['action'],
    reason: (item.reason as string | undefined) ?? null,
    status: item.status as Job['status'],
    counts: Object.fromEntries(COUNT_NAMES.map((name) => [name, Number(item[name] ?? 0)])) as unknown as JobCounts,
    requestedBy: (item.requestedBy as string | undefined) ?? null,
    createdAt: String(item.createdAt),
    startedAt: (item.startedAt as string | undefined) ?? null,
    completedAt: (item.completedAt as string | undefined) ?? null,
    updatedAt: String(item.updatedAt),
    generation: Number(item.generation ?? 0),
    lastTickAt: (item.lastTickAt as string | undefined) ?? null,
    lastRecoveryAt: (item.lastRecoveryAt as string | undefined) ?? null,
  };
}

const cardFromItem = (item: Record<string, unknown>): JobCard => ({
  jobId: String(item.jobId),
  issuerCardRefId: String(item.issuerCardRefId),
  status: item.status as JobCardStatus,
  operationId: (item.operationId as string | null | undefined) ?? null,
});

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * The job-card part of starting a card, for the operation's creation transaction: the card QUEUED → IN_FLIGHT with
 * its operation, and the job's started + 1, inFlight + 1 — only while the card is QUEUED and the job RUNNING.
 */
export function jobCardStartItems(tableName: string, card: { jobId: string; issuerCardRefId: string }, operationId: string, at: string): TransactItem[] {
  return [
    {
      Update: {
        TableName: tableName,
        Key: cardKey(card.jobId, card.issuerCardRefId),
        ConditionExpression: '#status = :queued',
        UpdateExpression: 'SET #status = :inFlight, operationId = :op, gsi1pk = :index',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':queued': 'QUEUED', ':inFlight': 'IN_FLIGHT', ':op': operationId, ':index': byStatus(card.jobId, 'IN_FLIGHT') },
      },
    },
    {
      Update: {
        TableName: tableName,
        Key: jobKey(card.jobId),
        ConditionExpression: '#status = :running',
        UpdateExpression: 'ADD #started :one, #inFlight :one SET updatedAt = :at',
        ExpressionAttributeNames: { '#status': 'status', '#started': 'started', '#inFlight': 'inFlight' },
        ExpressionAttributeValues: { ':running': 'RUNNING', ':one': 1, ':at': at },
      },
    },
  ];
}

/**
 * The job-card part of an operation's save that makes it final: the card IN_FLIGHT → the operation's status, and the
 * job's inFlight − 1, <status> + 1. The operation's own version condition makes it happen once.
 */
export function jobCardSettleItems(tableName: string, settlement: CardSettlement, at: string): TransactItem[] {
  return [
    {
      Update: {
        TableName: tableName,
        Key: cardKey(settlement.jobId, settlement.issuerCardRefId),
        ConditionExpression: '#status = :inFlight AND operationId = :op',
        UpdateExpression: 'SET #status = :settled, gsi1pk = :index',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':inFlight': 'IN_FLIGHT',
          ':op': settlement.operationId,
          ':settled': settlement.status,
          ':index': byStatus(settlement.jobId, settlement.status),
        },
      },
    },
    {
      Update: {
        TableName: tableName,
        Key: jobKey(settlement.jobId),
        UpdateExpression: 'ADD #inFlight :minusOne, #settled :one SET updatedAt = :at',
        ExpressionAttributeNames: { '#inFlight': 'inFlight', '#settled': settlement.status },
        ExpressionAttributeValues: { ':minusOne': -1, ':one': 1, ':at': at },
      },
    },
  ];
}

const isConditionFailure = (err: unknown): boolean => err instanceof ConditionalCheckFailedException;

export class DynamoDbJobStore implements JobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async create(job: Job, idempotency?: IdempotencyClaim): Promise<CreateJobResult> {
    // A new job: PENDING, no cards, never started (the unset instants are left out, read back as null).
    const putJob: TransactItem = {
      Put: {
        TableName: this.tableName,
        Item: {
          ...jobKey(job.jobId),
          entity: 'JOB',
          jobId: job.jobId,
          action: job.action,
          reason: job.reason,
          status: job.status,
          ...job.counts,
          requestedBy: job.requestedBy,
          createdAt: job.createdAt,
          updatedAt: job.updatedAt,
          generation: job.generation,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    const items: TransactItem[] = idempotency
      ? [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...idempotencyKey(idempotency.key),
                entity: 'JOB_IDEMPOTENCY_KEY',
                jobId: job.jobId,
                requestHash: idempotency.requestHash,
                expiresAt: idempotency.expiresAt,
              },
              // TTL deletion lags; an expired key is free even while its item lingers.
              ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
              ExpressionAttributeValues: { ':now': Math.floor(this.now() / 1000) },
            },
          },
          putJob,
        ]
      : [putJob];
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return { kind: 'created' };
    } catch (err) {
      const keyTaken = idempotency && err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
      if (!keyTaken) throw err;
      const existing = await this.findIdempotencyKey(idempotency.key);
      if (!existing) throw err; // expired between the two calls: the caller's retry creates it
      return { kind: 'key-exists', ...existing };
    }
  }

  async findIdempotencyKey(key: string): Promise<{ jobId: string; requestHash: string } | null> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: idempotencyKey(key), ConsistentRead: true }));
    const item = result.Item;
    if (!item || Number(item.expiresAt) < Math.floor(this.now() / 1000)) return null;
    return { jobId: String(item.jobId), requestHash: String(item.requestHash) };
  }

  async get(jobId: string): Promise<Job | null> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: jobKey(jobId), ConsistentRead: true }));
    return result.Item && result.Item.entity === 'JOB' ? jobFromItem(result.Item) : null;
  }

  async addCards(jobId: string, issuerCardRefIds: readonly string[], now: Date): Promise<{ kind: 'added'; added: number } | { kind: 'not-pending' }> {
    const unique = [...new Set(issuerCardRefIds)];
    let added = 0;
    for (let i = 0; i < unique.length; i += CARDS_PER_TRANSACTION) {
      const chunk = await this.addChunk(jobId, unique.slice(i, i + CARDS_PER_TRANSACTION), now);
      if (chunk === 'not-pending') return { kind: 'not-pending' };
      added += chunk;
    }
    return { kind: 'added', added };
  }

  /** One transaction of card puts and the job's count; cards that already exist are dropped and the rest retried. */
  private async addChunk(jobId: string, cards: string[], now: Date): Promise<number | 'not-pending'> {
    let remaining = cards;
    for (let round = 0; round < MAX_CHUNK_ROUNDS; round++) {
      if (remaining.length === 0) return 0;
      const items: TransactItem[] = [
        {
          Update: {
            TableName: this.tableName,
            Key: jobKey(jobId),
            ConditionExpression: '#status = :pending',
            UpdateExpression: 'ADD #cards :n SET updatedAt = :at',
            ExpressionAttributeNames: { '#status': 'status', '#cards': 'cards' },
            ExpressionAttributeValues: { ':pending': 'PENDING', ':n': remaining.length, ':at': now.toISOString() },
          },
        },
        ...remaining.map((issuerCardRefId): TransactItem => ({
          Put: {
            TableName: this.tableName,
            Item: {
              ...cardKey(jobId, issuerCardRefId),
              [GSI.partitionKey]: byStatus(jobId, 'QUEUED'),
              [GSI.sortKey]: issuerCardRefId,
              entity: 'JOB_CARD',
              jobId,
              issuerCardRefId,
              status: 'QUEUED',
              operationId: null,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
      ];
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
        return remaining.length;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const reasons = err.CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'not-pending';
        // Cards already in the job (an earlier request, or this one's retry) are counted once: drop them, try again.
        const existing = new Set(remaining.filter((_, n) => reasons[n + 1]?.Code === 'ConditionalCheckFailed'));
        if (existing.size === 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round * Math.random())); // a conflict: back off
        remaining = remaining.filter((card) => !existing.has(card));
      }
    }
    throw new Error(`adding cards to job ${jobId} kept conflicting`);
  }

  async start(jobId: string, now: Date): Promise<boolean> {
    const at = now.toISOString();
    return this.conditionalUpdate({
      Key: jobKey(jobId),
      ConditionExpression: '#status = :pending',
      UpdateExpression: 'SET #status = :running, startedAt = :at, updatedAt = :at, lastTickAt = :at, lastRecoveryAt = :at',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'PENDING', ':running': 'RUNNING', ':at': at },
    });
  }

  async cancel(jobId: string, now: Date): Promise<boolean> {
    const at = now.toISOString();
    // A PENDING job has nothing in flight: closed at once. A RUNNING one is closed by its runner once inFlight is 0.
    if (
      await this.conditionalUpdate({
        Key: jobKey(jobId),
        ConditionExpression: '#status = :pending',
        UpdateExpression: 'SET #status = :cancelled, updatedAt = :at, completedAt = :at',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':cancelled': 'CANCELLED', ':at': at },
      })
    ) {
      return true;
    }
    return this.conditionalUpdate({
      Key: jobKey(jobId),
      ConditionExpression: '#status = :running',
      UpdateExpression: 'SET #status = :cancelled, updatedAt = :at',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':running': 'RUNNING', ':cancelled': 'CANCELLED', ':at': at },
    });
  }

  async listCards(jobId: string, filter: { status?: JobCardStatus | undefined }, page: PageRequest): Promise<Page<JobCard>> {
    const { pk } = jobKey(jobId);
    if (filter.status === undefined) {
      const keyNames = [TABLE.partitionKey, TABLE.sortKey];
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :card)',
          ExpressionAttributeValues: { ':pk': pk, ':card': 'CARD#' },
          ExclusiveStartKey: decodePageToken(page.nextToken, { attribute: TABLE.partitionKey, value: pk }, keyNames),
          ConsistentRead: true,
          Limit: page.limit + 1, // one more than asked, so nextToken is null exactly on the last page
        }),
      );
      const entries = result.Items ?? [];
      const last = entries[page.limit - 1];
      return {
        items: entries.slice(0, page.limit).map(cardFromItem),
        nextToken: entries.length > page.limit && last ? encodePageToken(Object.fromEntries(keyNames.map((k) => [k, String(last[k])]))) : null,
      };
    }
    // A card that moved on since the index was read is left out.
    const { items, nextToken } = await indexPage(this.client, this.tableName, byStatus(jobId, filter.status), page);
    return { items: items.map(cardFromItem).filter((card) => card.status === filter.status), nextToken };
  }

  async claimTick(jobId: string, generation: number, now: Date): Promise<ClaimResult> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(jobId),
          ConditionExpression: 'generation = :n AND attribute_not_exists(completedAt) AND #status IN (:running, :cancelled)',
          // The counts seen by this claim, so the next one knows how many cards settled in between (a metric).
          UpdateExpression: 'SET generation = :next, lastTickAt = :at, seenStarted = #started, seenInFlight = #inFlight',
          ExpressionAttributeNames: { '#status': 'status', '#started': 'started', '#inFlight': 'inFlight' },
          ExpressionAttributeValues: { ':n': generation, ':next': generation + 1, ':at': now.toISOString(), ':running': 'RUNNING', ':cancelled': 'CANCELLED' },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const item = result.Attributes ?? {};
      const before = jobFromItem(item);
      const settled = (started: unknown, inFlight: unknown) => Number(started ?? 0) - Number(inFlight ?? 0);
      return {
        kind: 'claimed',
        job: { ...before, generation: generation + 1, lastTickAt: now.toISOString() },
        previousTickAt: before.lastTickAt,
        settledSinceLastTick: settled(item.started, item.inFlight) - settled(item.seenStarted, item.seenInFlight),
      };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return { kind: 'lost', job: await this.get(jobId) };
    }
  }

  async queuedCards(jobId: string, limit: number): Promise<string[]> {
    // The index lags its table: a card the previous tick started a moment ago may still be listed as QUEUED. The
    // cards themselves, read consistently, say which are (one BatchGetItem per 100 saves preparing a start that fails).
    const keys = (await this.indexEntries(byStatus(jobId, 'QUEUED'), limit)).map(tableKeyOf);
    const cards = (await batchGetInOrder(this.client, this.tableName, keys)).map(cardFromItem);
    return cards.flatMap((card) => (card.status === 'QUEUED' ? [card.issuerCardRefId] : []));
  }

  async inFlightOperations(jobId: string): Promise<string[]> {
    const keys = (await this.indexEntries(byStatus(jobId, 'IN_FLIGHT'))).map(tableKeyOf);
    const cards = (await batchGetInOrder(this.client, this.tableName, keys)).map(cardFromItem);
    return cards.flatMap((card) => (card.status === 'IN_FLIGHT' && card.operationId ? [card.operationId] : []));
  }

  /** The gsi1 entries of a partition: the first `limit`, or all of them. */
  private async indexEntries(partition: string, limit?: number): Promise<Record<string, unknown>[]> {
    const entries: Record<string, unknown>[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: GSI.name,
          KeyConditionExpression: '#p = :p',
          ExpressionAttributeNames: { '#p': GSI.partitionKey },
          ExpressionAttributeValues: { ':p': partition },
          ExclusiveStartKey: exclusiveStartKey,
          ...(limit === undefined ? {} : { Limit: limit }),
        }),
      );
      entries.push(...(result.Items ?? []));
      exclusiveStartKey = limit === undefined ? result.LastEvaluatedKey : undefined;
    } while (exclusiveStartKey);
    return entries;
  }

  async close(job: Job, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const base = { Key: jobKey(job.jobId), ExpressionAttributeNames: { '#status': 'status', '#inFlight': 'inFlight' } };
    if (job.status === 'RUNNING') {
      return this.conditionalUpdate({
        ...base,
        ExpressionAttributeNames: { ...base.ExpressionAttributeNames, '#started': 'started', '#cards': 'cards' },
        ConditionExpression: '#status = :running AND #started = #cards AND #inFlight = :zero',
        UpdateExpression: 'SET #status = :completed, completedAt = :at, updatedAt = :at',
        ExpressionAttributeValues: { ':running': 'RUNNING', ':completed': 'COMPLETED', ':zero': 0, ':at': at },
      });
    }
    return this.conditionalUpdate({
      ...base,
      ConditionExpression: '#status = :cancelled AND #inFlight = :zero AND attribute_not_exists(completedAt)',
      UpdateExpression: 'SET completedAt = :at, updatedAt = :at',
      ExpressionAttributeValues: { ':cancelled': 'CANCELLED', ':zero': 0, ':at': at },
    });
  }

  async markRecovery(jobId: string, now: Date): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: jobKey(jobId),
        UpdateExpression: 'SET lastRecoveryAt = :at',
        ExpressionAttributeValues: { ':at': now.toISOString() },
      }),
    );
  }

  /** An UpdateItem on its condition: false when the condition does not hold (nothing written). */
  private async conditionalUpdate(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
