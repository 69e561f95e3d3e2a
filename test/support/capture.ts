import { logger } from '../../lambdas/observability';

/**
 * Runs `fn` with the service logger at DEBUG (the most it ever prints, so a leak at any level shows) and everything written to stdout/stderr captured (not printed), so a
 * test can assert what the JSON logs say and never say. Powertools' injectLambdaContext middleware resets the
 * level to the constructor's (LOG_LEVEL=SILENT in tests) at every warm invocation through
 * `refreshSampleRateCalculation()`, so a bare `logger.setLogLevel('INFO')` would not survive the first request:
 * that reset is suspended for the capture window.
 */
export async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const captured: string[] = [];
  const capture = ((chunk: unknown): boolean => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  const originalOut = process.stdout.write;
  const originalErr = process.stderr.write;
  const previousLevel = logger.getLevelName() as Parameters<typeof logger.setLogLevel>[0];
  const keepLevel = jest.spyOn(logger, 'refreshSampleRateCalculation').mockImplementation(() => undefined);
  logger.setLogLevel('DEBUG');
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    await fn();
  } finally {
    process.stdout.write = originalOut;
    process.stderr.write = originalErr;
    keepLevel.mockRestore();
    logger.setLogLevel(previousLevel);
  }
  return captured.join('');
}
