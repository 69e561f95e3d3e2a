import { luhnValid, maskDigitRuns, redactPans } from '../../lambdas/domain/card-data';

describe('card data rules', () => {
  it.each([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['79927398713', true],
    ['0', true],
  ])('luhnValid(%s) = %s', (digits, expected) => {
    expect(luhnValid(digits)).toBe(expected);
  });

  it('log rule: a Luhn-valid 13–19 digit run is redacted, grouped or not; other numbers stay readable', () => {
    expect(redactPans('pan 4111 1111 1111 1111 and 4111-1111-1111-1111')).toBe('pan [PAN-REDACTED] and [PAN-REDACTED]');
    expect(redactPans('not luhn 4111111111111112, account 123456789012, at 1796298931393')).toBe(
      'not luhn 4111111111111112, account 123456789012, at 1796298931393',
    );
  });

  it('listing rule: every run of 12 or more digits is masked, Luhn or not', () => {
    expect(maskDigitRuns('id 4111111111111112 and 12345678901')).toBe(`id ${'*'.repeat(16)} and 12345678901`);
  });
});
