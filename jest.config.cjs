/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // lambdas/ is a root too, so coverage also counts the runtime files no test loads; the tests are test/**/*.test.ts
  // only (lambdas/handlers/*.spec.ts are route specs, not tests).
  roots: ['<rootDir>/test', '<rootDir>/lambdas'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.[cm]?[tj]s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  // @middy/* and jose ship ESM only and Jest's module registry is CommonJS, so compile them to CJS too.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|jose)/)'],
  // middy 7 exports only an `import` condition, which Jest's CommonJS resolver never matches: map the bare names.
  moduleNameMapper: { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 30000,
  // Two workers on our 2-core machines: the suites wait on DynamoDB Local, child processes and timers far more than
  // they compute (one worker took 5.7 min). Timing figures are asserted only when the event loop kept up.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/summary-reporter.cjs'],
  // `npm test` is `jest --coverage`: it measures the runtime code and fails under these floors (the figures when they
  // were last set: statements 95.29 %, branches 90.47 %, functions 96.59 %, lines 97.53 %; raise them as coverage
  // grows). Branches went down with events out: its adapters' `??` fallbacks and partial-failure answers of SQS
  // batches and EventBridge are branches the local engines never take.
  // `npx jest <file>` collects nothing, so a subset is never held to them (`npm test -- <file>` would be, and fail).
  // local/ is not measured: its engines and `npm start` run in the global setup and in child processes, out of
  // coverage's sight.
  collectCoverageFrom: ['<rootDir>/lambdas/**/*.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: { global: { statements: 95, branches: 90, functions: 96, lines: 97 } },
};
