import { defineSpec } from '../spec';

export const spec = defineSpec({
  description: 'API Gateway $default: 404, or 405 with allow, in the error body of every other route',
  env: ['API_NAME'],
  table: 'none',
  sendsTo: [],
  fallback: true,
});
