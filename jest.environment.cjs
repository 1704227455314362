// jest runs each test file in its own V8 context, with its own typed-array classes. Native addons
// (onnxruntime-node) return arrays made in the main context, and onnxruntime-common's
// `instanceof Float32Array` checks reject them inside the test context ("A float32 tensor's data
// must be type of function Float32Array()"). Giving the test context the main context's
// typed-array and ArrayBuffer classes makes both sides agree, as they do in production.
const { TestEnvironment } = require('jest-environment-node');

const SHARED_GLOBALS = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED_GLOBALS) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
