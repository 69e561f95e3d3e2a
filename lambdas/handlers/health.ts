import { defineHandler } from '../http/define-routes';
import { spec } from './health.spec';

/** `GET /health` on both APIs: liveness only, no dependency is touched. */
export const handler = defineHandler(spec, () => ({}), {
  health: { handle: async () => ({ status: 200, body: { status: 'ok' } }) },
});
