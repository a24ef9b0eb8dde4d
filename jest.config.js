// Jest runs in native ESM mode (node --experimental-vm-modules), TypeScript compiled by swc.
/** @type {import('jest').Config} */
const swc = {
  jsc: {
    target: 'es2023',
    keepClassNames: true,
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^#polystore/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/{apps,libs,test}/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  // Longest suite first, by committed durations (test/support/suite-durations.json), so the two
  // workers finish together on a clean clone too (jest's own order needs its cache).
  testSequencer: '<rootDir>/test/support/duration-sequencer.mjs',
  testTimeout: 60_000,
  // Suites start real processes and databases; two at a time suit a 2-core machine.
  maxWorkers: 2,
};
