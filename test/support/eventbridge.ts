import { createServer, type Server } from 'node:http';

/**
 * A stand-in for the EventBridge API on 127.0.0.1, enough for PutEvents (AWS JSON 1.1): the real SDK client talks to
 * it over HTTP (AWS_ENDPOINT_URL_EVENTBRIDGE), it records every entry, and it can refuse some (FailedEntryCount),
 * which is how EventBridge reports a partial failure.
 */
export interface EventBridgeStandIn {
  url: string;
  entries: { EventBusName?: string; Source?: string; DetailType?: string; Detail?: string; Time?: number }[];
  /** The next `n` PutEvents calls refuse their first entry. */
  refuseNext(n: number): void;
  stop(): Promise<void>;
}

export async function startEventBridgeStandIn(): Promise<EventBridgeStandIn> {
  const entries: EventBridgeStandIn['entries'] = [];
  let refusals = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'AWSEvents.PutEvents') {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: String(target) }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: EventBridgeStandIn['entries'] };
      const refuse = refusals > 0;
      if (refuse) refusals--;
      const results = body.Entries.map((entry, i) => {
        if (refuse && i === 0) return { ErrorCode: 'InternalFailure', ErrorMessage: 'refused by the stand-in' };
        entries.push(entry);
        return { EventId: `eb-${entries.length}` };
      });
      res.end(JSON.stringify({ FailedEntryCount: refuse ? 1 : 0, Entries: results }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    entries,
    refuseNext(n) {
      refusals = n;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
