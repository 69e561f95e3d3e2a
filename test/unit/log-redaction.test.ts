import { logger, redactLogValue } from '../../lambdas/observability';

describe('log redaction (last line of defence for rule 14)', () => {
  it.each([
    ['4111111111111111', '[PAN-REDACTED]'],
    ['card 4111 1111 1111 1111 declined', 'card [PAN-REDACTED] declined'],
    ['5555-5555-5555-4444', '[PAN-REDACTED]'],
    ['pan=6011000990139424;', 'pan=[PAN-REDACTED];'],
    ['2026-11-24T03:21:05.903Z', '2026-11-24T03:21:05.903Z'],
    ['039a1263-f578-48e5-9e23-ec7e0faa30e4', '039a1263-f578-48e5-9e23-ec7e0faa30e4'],
    ['last digits 4242', 'last digits 4242'],
    ['12345678901', '12345678901'],
    ['arn:aws:lambda:us-east-1:000000000000:function:x', 'arn:aws:lambda:us-east-1:000000000000:function:x'],
    ['SentTimestamp 1795490465924', 'SentTimestamp 1795490465924'],
    ['at 1700000000000 and 1999999999998', 'at 1700000000000 and 1999999999998'],
    ['4111111111111112 fails Luhn', '4111111111111112 fails Luhn'],
    ['amex 378282246310005', 'amex [PAN-REDACTED]'],
  ])('masks PAN-like runs in %p', (input, expected) => {
    expect(redactLogValue('message', input)).toBe(expected);
  });

  it.each(['tokenInfo', 'tokenPan', 'encryptedData', 'cryptogram', 'authorization', 'sealedCredentials'])('drops the value of %s whatever it is', (key) => {
    expect(redactLogValue(key, { anything: 1 })).toBe('[REDACTED]');
  });

  it('applies to what the logger writes: message, attributes, nested objects and errors', () => {
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    const level = logger.getLevelName();
    logger.setLogLevel('INFO');
    try {
      logger.info('charged 4111111111111111', { tokenId: 't-1', nested: { note: 'pan 5555555555554444' }, tokenInfo: { dpan: '4000000000000002' } });
      logger.error('failed', { error: new Error('upstream said 4012888888881881') });
    } finally {
      logger.setLogLevel(level);
      out.mockRestore();
      err.mockRestore();
    }
    const text = lines.join('');
    expect(text).toContain('t-1');
    expect(text).toContain('[PAN-REDACTED]');
    for (const pan of ['4111111111111111', '5555555555554444', '4000000000000002', '4012888888881881']) expect(text).not.toContain(pan);
  });
});
