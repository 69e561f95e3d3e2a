import { InvalidPageToken } from '../ports/token-store';

/**
 * Opaque page tokens: the DynamoDB key to resume from, base64url JSON. Decoding checks the shape and that the
 * key stays in the partition asked for, so a crafted token cannot read another token's or card's items.
 */
export function encodePageToken(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodePageToken(
  token: string | undefined,
  expected: { attribute: string; value: string },
  keyNames: readonly string[],
): Record<string, string> | undefined {
  if (token === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidPageToken();
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new InvalidPageToken();
  const record = key as Record<string, unknown>;
  const names = Object.keys(record).sort();
  if (names.join() !== [...keyNames].sort().join() || names.some((n) => typeof record[n] !== 'string' || record[n] === '')) throw new InvalidPageToken();
  if (record[expected.attribute] !== expected.value) throw new InvalidPageToken();
  return record as Record<string, string>;
}
