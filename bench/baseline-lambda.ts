/**
 * The bundle-size and init-time baseline (bench/bundles.ts): a Lambda that only constructs the clients the hot path
 * needs — a DynamoDBClient wrapped in a DynamoDBDocumentClient, and an SQSClient — at import, with the options the
 * service's adapters use, and nothing else. Built with the service's bundling options in the same run.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const sqs = new SQSClient({ useQueueUrlAsEndpoint: true });

export const handler = async (): Promise<{ clients: number }> => ({ clients: [documentClient, sqs].length });
