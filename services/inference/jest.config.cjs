const preset = require('../../jest.preset.cjs');

/** @type {import('jest').Config} */
module.exports = {
  ...preset,
  displayName: 'inference',
  transform: {
    ...preset.transform,
    // @fastify/static (under @fastify/swagger-ui) require()s content-disposition, which is ESM only:
    // Node >= 20.19 loads it natively, jest's module system does not, so jest compiles it to CommonJS.
    '/node_modules/content-disposition/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022', isolatedModules: true } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  // Real small models, built once per run by the training workspace's make-model CLI.
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
