import { apiKeyMatches } from '../../lambdas/http/api-key';

/** DESIGN §3 merchant-side webhook: `authorization: APIKEY <key>` must equal TR_API_KEY (constant-time compare). */

const KEY = 'local-tr-key';

describe('apiKeyMatches', () => {
  it.each([
    ['exact', `APIKEY ${KEY}`],
    ['lower-case scheme', `apikey ${KEY}`],
    ['mixed-case scheme', `ApiKey ${KEY}`],
  ])('accepts the right key (%s): %j', (_label, header) => {
    expect(apiKeyMatches(header, KEY)).toBe(true);
  });

  it.each([
    ['a wrong key', 'APIKEY other-key'],
    ['a key differing in case', `APIKEY ${KEY.toUpperCase()}`],
    ['an empty key', 'APIKEY '],
    ['the scheme alone', 'APIKEY'],
    ['the key without a scheme', KEY],
    ['a Bearer scheme', `Bearer ${KEY}`],
    ['a Basic scheme', `Basic ${KEY}`],
    ['no space after the scheme', `APIKEY${KEY}`],
    ['an extra word after the key', `APIKEY ${KEY} extra`],
    ['a prefix of the key', `APIKEY ${KEY.slice(0, -1)}`],
    ['a suffix of the key', `APIKEY ${KEY.slice(1)}`],
    ['the key with a suffix appended', `APIKEY ${KEY}x`],
    ['the key with a prefix prepended', `APIKEY x${KEY}`],
    ['the key twice', `APIKEY ${KEY}${KEY}`],
    ['an empty header', ''],
  ])('rejects %s: %j', (_label, header) => {
    expect(apiKeyMatches(header, KEY)).toBe(false);
  });

  it('rejects a missing header', () => {
    expect(apiKeyMatches(undefined, KEY)).toBe(false);
  });

  it('never matches when the expected key is empty', () => {
    expect(apiKeyMatches('APIKEY ', '')).toBe(false);
    expect(apiKeyMatches('APIKEY', '')).toBe(false);
    expect(apiKeyMatches(undefined, '')).toBe(false);
    expect(apiKeyMatches('', '')).toBe(false);
  });

  it.each([1, 11, 12, 13, 64, 1000, 10_000])('a presented key of %i chars neither throws nor matches a 12-char key', (n) => {
    const presented = 'k'.repeat(n);
    expect(() => apiKeyMatches(`APIKEY ${presented}`, KEY)).not.toThrow();
    expect(apiKeyMatches(`APIKEY ${presented}`, KEY)).toBe(false);
  });

  it('handles multi-byte characters of different byte lengths without throwing', () => {
    expect(() => apiKeyMatches('APIKEY ключ-€', KEY)).not.toThrow();
    expect(apiKeyMatches('APIKEY ключ-€', KEY)).toBe(false);
    expect(apiKeyMatches('APIKEY ключ-€', 'ключ-€')).toBe(true);
  });

  it('works with long expected keys', () => {
    const longKey = 'a1'.repeat(256);
    expect(apiKeyMatches(`APIKEY ${longKey}`, longKey)).toBe(true);
    expect(apiKeyMatches(`APIKEY ${longKey.slice(0, -1)}`, longKey)).toBe(false);
  });
});
