// Runs in every test worker before any module is imported: quiet logs and metrics unless a test asks for them.
process.env.LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// Every response a handler returns is checked against its route's declared schema (see lambdas/define-handler.ts).
process.env.CHECK_RESPONSES ??= '1';
