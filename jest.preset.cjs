// One jest setup for every workspace: TypeScript through ts-jest in transpile-only mode
// (type errors are caught by `npm run typecheck`, which is much faster than per-file checks).
/** @type {import('jest').Config} */
module.exports = {
  // Node, with the main context's typed arrays (see jest.environment.cjs: onnxruntime-node needs them).
  testEnvironment: require('node:path').join(__dirname, 'jest.environment.cjs'),
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
};
