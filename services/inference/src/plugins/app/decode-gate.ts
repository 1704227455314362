/**
 * Decorates the app with the DecodeGate (predict/decode-gate.ts): large images wait for one of a
 * few decode slots in a bounded queue, so they never hold every libuv thread.
 */
import fp from 'fastify-plugin';
import type { Config } from '../../config';
import { DecodeGate } from '../../predict/decode-gate';

declare module 'fastify' {
  interface FastifyInstance {
    decodeGate: DecodeGate;
  }
}

export interface DecodeGatePluginOptions {
  config: Config;
}

export default fp<DecodeGatePluginOptions>(
  async (app, { config }) => {
    const { largePixels, largeConcurrency, maxQueue } = config.decode;
    app.decorate('decodeGate', new DecodeGate({ largePixels, concurrency: largeConcurrency, maxQueue }));
  },
  { name: 'decode-gate' },
);
