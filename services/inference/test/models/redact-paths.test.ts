import { redactPaths } from '../../src/models/model-manager';

describe('redactPaths', () => {
  test('hides the registry root and other absolute paths', () => {
    const root = '/srv/fer/models';
    const message = `Load model from /srv/fer/models/tiny/3/model.onnx failed: protobuf parsing failed (see /usr/lib/x/ort.so)`;
    const redacted = redactPaths(message, root);
    expect(redacted).toContain('<registry>/tiny/3/model.onnx');
    expect(redacted).toContain('…/ort.so');
    expect(redacted).not.toMatch(/\/srv|\/usr/);
  });
});
