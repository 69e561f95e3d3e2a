/**
 * Outside Lambda (tests, `npm start`, the bench, scripts) Powertools keeps the tracer off, but the X-Ray SDK it
 * loads would still start in automatic mode: an async hook on every promise of the process (awaits measured ~14×
 * slower here, and one more hook for each Jest module registry that loads it). Manual mode skips the hook, and
 * the tracer being off, nothing else changes. In Lambda (AWS_EXECUTION_ENV set) the SDK keeps its automatic mode.
 * observability.ts imports this before the tracer, so the SDK sees the setting when it loads.
 */
if (!process.env.AWS_EXECUTION_ENV) process.env.AWS_XRAY_MANUAL_MODE ??= '1';

export {};
