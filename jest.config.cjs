// `npm test` at the root runs every workspace's tests as one jest run.
/** @type {import('jest').Config} */
module.exports = {
  projects: [
    '<rootDir>/shared',
    '<rootDir>/training',
    '<rootDir>/services/inference',
    '<rootDir>/clients/typescript',
  ],
};
