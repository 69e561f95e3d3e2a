import { httpRoute } from '../http/route';

/** `GET /health` on both APIs: liveness only, no dependency is touched. */
export const handler = httpRoute({ name: 'health' }, async () => ({ status: 200, body: { status: 'ok' } }));
