import { InvalidPageToken } from '../ports/token-store';
import { validationFailed } from './errors';

/** A page token we did not issue is the caller's mistake: 400 on `query.nextToken`. */
export async function paged<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof InvalidPageToken) throw validationFailed([{ path: 'query.nextToken', message: err.message }]);
    throw err;
  }
}
