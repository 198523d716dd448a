// Jest runs the TypeScript sources as ESM (oidc-provider is ESM-only), transformed by swc.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 60_000,
  // e2e suites start servers in child processes; give them room and never let one hang CI
  openHandlesTimeout: 5_000,
};
