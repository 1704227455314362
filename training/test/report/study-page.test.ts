// The study page names the shipped version of each study model by its model.onnx, not by name and
// number alone: the study publishes into its own registry, where numbers restart at 1.
import { withShipped, type VersionDigest } from '../../src/report/study-page';
import type { ComparisonRow } from '../../src/report/comparison';

const row = (name: string, version: number) => ({ name, version }) as ComparisonRow;

describe('withShipped', () => {
  const study: VersionDigest[] = [
    { name: 'resnet-small', version: 1, onnxSha256: 'aaa' },
    { name: 'densenet-small', version: 1, onnxSha256: 'bbb' },
    { name: 'densenet-wide', version: 1, onnxSha256: 'ccc' },
  ];
  const shipped: VersionDigest[] = [
    { name: 'resnet-small', version: 1, onnxSha256: 'old' },
    { name: 'resnet-small', version: 2, onnxSha256: 'aaa' },
    { name: 'copy-of-resnet', version: 1, onnxSha256: 'aaa' },
    { name: 'densenet-small', version: 1, onnxSha256: 'bbb' },
  ];

  it('finds the byte-identical shipped version, preferring the same name', () => {
    const rows = withShipped([row('resnet-small', 1), row('densenet-small', 1)], study, shipped);
    expect(rows.map((r) => r.shipped)).toEqual([
      { name: 'resnet-small', version: 2 },
      { name: 'densenet-small', version: 1 },
    ]);
  });

  it('says null for a model that is not shipped, or whose study version is not found', () => {
    expect(withShipped([row('densenet-wide', 1)], study, shipped)[0].shipped).toBeNull();
    expect(withShipped([row('resnet-small', 9)], study, shipped)[0].shipped).toBeNull();
    expect(withShipped([row('resnet-small', 1)], [], shipped)[0].shipped).toBeNull();
  });

  it('never matches two versions without a recorded digest', () => {
    const none: VersionDigest[] = [{ name: 'x', version: 1, onnxSha256: null }];
    expect(withShipped([row('x', 1)], none, none)[0].shipped).toBeNull();
  });
});
