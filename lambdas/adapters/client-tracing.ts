/**
 * How an adapter's AWS SDK client is traced, chosen by the handler that composes it: `traceClient`
 * (lambdas/tracing.ts) adds the X-Ray SDK's subsegment middleware; `UNTRACED` leaves the client as built.
 *
 * A parameter rather than a default so every composition root says which it is: the X-Ray SDK (with the
 * Powertools Tracer, semver and cls-hooked) is about 120 KB of minified bundle, and only a handler that imports
 * lambdas/tracing.ts carries it (bench section 6).
 */
export type ClientTracing = <C extends object>(client: C) => C;

/**
 * No X-Ray subsegments for this client's calls. With active tracing Lambda still records the function's own
 * segment (init, invocation, overhead), and the SDK still forwards the trace header (X-Amzn-Trace-Id, its
 * recursion-detection middleware), so a message sent to SQS keeps the trace for its consumer.
 */
export const UNTRACED: ClientTracing = (client) => client;
