// Runs in every test worker before any module is imported: quiet logs and metrics unless a test asks for them.
process.env.LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
