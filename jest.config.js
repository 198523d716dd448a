// Jest runs the TypeScript sources as ESM (oidc-provider is ESM-only), transformed by swc.
export default {
  // Node's environment, whose teardown also stops servers and browsers a test file left running
  testEnvironment: '<rootDir>/tests/support/environment.js',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  // PostgreSQL, Redis and Chromium are checked once, before any suite: one sentence if one is missing
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  testTimeout: 60_000,
  // e2e suites start servers in child processes; give them room and never let one hang CI
  openHandlesTimeout: 5_000,
};
