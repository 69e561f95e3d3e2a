import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * `authorization: APIKEY <key>` against the expected key in constant time. Both sides are hashed first so the
 * comparison takes the same time whatever the presented length (timingSafeEqual needs equal lengths).
 */
export function apiKeyMatches(authorization: string | undefined, expected: string): boolean {
  const presented = /^APIKEY[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1] ?? '';
  const equal = timingSafeEqual(digest(presented), digest(expected));
  return equal && presented.length > 0;
}
