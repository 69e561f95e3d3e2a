import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClientTracing } from './client-tracing';

export type DynamoDbClientHook = (client: DynamoDBClient) => void;

let clientHook: DynamoDbClientHook = () => undefined;

/**
 * Instrumentation seam (default: nothing): `hook` sees every DynamoDBClient documentClient() creates, e.g. to add
 * counting middleware (bench/), on top of the X-Ray tracing the caller asks for. Handler modules create their
 * clients at import, so register before loading them.
 */
export function setDynamoDbClientHook(hook: DynamoDbClientHook): void {
  clientHook = hook;
}

/** Document client; the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB locally, from the region in AWS. */
export const documentClient = (tracing: ClientTracing): DynamoDBDocumentClient => {
  const client = tracing(new DynamoDBClient({}));
  clientHook(client);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
};
