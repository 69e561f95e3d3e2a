import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { ServiceEvent } from '../domain/events';
import type { ClientTracing } from './client-tracing';
import type { EventBus } from '../ports/events';
import { SERVICE_NAME } from '../resources';

/** PutEvents takes at most ten entries. */
const PUT_BATCH = 10;

export const eventBridgeClient = (tracing: ClientTracing): EventBridgeClient => tracing(new EventBridgeClient({}));

/** The stack's bus: `source` token-lifecycle, `detail-type` = the event type, `detail` = the event (DESIGN §8). */
export class EventBridgeBus implements EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async put(events: readonly ServiceEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += PUT_BATCH) {
      const batch = events.slice(i, i + PUT_BATCH);
      const result = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((event) => ({
            EventBusName: this.busName,
            Source: SERVICE_NAME,
            DetailType: event.type,
            Detail: JSON.stringify(event),
            Time: new Date(event.timestamp),
          })),
        }),
      );
      // A partly failed PutEvents answers 200: surface it, so the stream record is retried (consumers dedupe by id).
      if (result.FailedEntryCount) {
        const failed = result.Entries?.find((entry) => entry.ErrorCode);
        throw new Error(`EventBridge refused ${result.FailedEntryCount} of ${batch.length} events (${failed?.ErrorCode ?? 'unknown'})`);
      }
    }
  }
}
