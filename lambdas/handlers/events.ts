import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbEventLog } from '../adapters/dynamodb-event-log';
import { defineHandler } from '../http/define-routes';
import { validationFailed } from '../http/errors';
import { UnknownEventId } from '../ports/events';
import { InvalidPageToken } from '../ports/token-store';
import { spec } from './events.spec';
import { traceClient } from '../tracing';

/** The event log read route (GET /v1/events). */
export const handler = defineHandler(
  spec,
  // Retention only matters to writers; the reader lists from the oldest day the log can still hold.
  (env) => ({ log: new DynamoDbEventLog(documentClient(traceClient), { tableName: env.TABLE_NAME, retentionDays: env.EVENT_RETENTION_DAYS }) }),
  {
    listEvents: {
      handle: async ({ query }, { log }) => {
        try {
          const page = await log.list(query);
          return { status: 200, body: { events: page.items, nextToken: page.nextToken } };
        } catch (err) {
          if (err instanceof UnknownEventId) throw validationFailed([{ path: 'query.after', message: err.message }]);
          if (err instanceof InvalidPageToken) throw validationFailed([{ path: 'query.nextToken', message: err.message }]);
          throw err;
        }
      },
    },
  },
);
