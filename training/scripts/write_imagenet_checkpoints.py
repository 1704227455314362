#!/usr/bin/python3
"""Writes full-size, ImageNet-shaped (1000 classes) resnet152 and densenet161 checkpoints with
random values into a folder, named as torchvision names its downloads, for the study's transfer-
learning test (training/test/cli/study-pretrained.test.ts). Never committed: about 350 MB.

    /usr/bin/python3 training/scripts/write_imagenet_checkpoints.py OUT_DIR

Needs only Debian's python3-torch: the keys and shapes come from the manifests that
make_torch_fixtures.py wrote with torchvision 0.14 (training/test/fixtures/torchvision/*.keys.json).
Like torchvision's own files, resnet152 is saved in the zip format and densenet161 in the legacy
(pre-1.6) format with the 2017 DenseNet key names ("norm.1" for "norm1"). Values have the scale
torchvision initializes with (He-normal convolutions, BatchNorm near identity), so a network
that imports them trains without overflowing.
"""

import collections
import json
import math
import os
import re
import sys

import torch

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torchvision')
SEED = 20240602
FILES = {'resnet152': 'resnet152-394f9c45.pth', 'densenet161': 'densenet161-8d451a50.pth'}
LEGACY = {'densenet161'}
OLD_DENSENET_NAME = re.compile(
    r'^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(weight|bias|running_mean|running_var|num_batches_tracked)$')


def random_value(key, shape, batch_norm_layers, generator):
    layer, _, role = key.rpartition('.')
    if role == 'num_batches_tracked':
        return torch.tensor(int(torch.randint(1, 1000, (1,), generator=generator)), dtype=torch.int64)
    if layer in batch_norm_layers:
        if role == 'weight':
            return 1 + 0.1 * torch.randn(shape, generator=generator)
        if role == 'running_var':
            return 0.5 + torch.rand(shape, generator=generator)
        return 0.1 * torch.randn(shape, generator=generator)  # bias, running_mean
    if role == 'weight' and len(shape) == 4:
        fan_out = shape[0] * shape[2] * shape[3]
        return torch.randn(shape, generator=generator) * math.sqrt(2.0 / fan_out)
    if role == 'weight':
        return torch.randn(shape, generator=generator) * 0.01
    return torch.zeros(shape)


def state_dict(name, generator):
    with open(os.path.join(FIXTURE_DIR, f'{name}.keys.json')) as f:
        keys = json.load(f)['keys']
    batch_norm_layers = {k['key'].rpartition('.')[0] for k in keys if k['key'].endswith('.running_mean')}
    state = collections.OrderedDict()
    for entry in keys:
        key = entry['key']
        if name in LEGACY:
            match = OLD_DENSENET_NAME.match(key)
            key = f'{match.group(1)}.{match.group(2)}.{match.group(3)}' if match else key
        state[key] = random_value(entry['key'], entry['shape'], batch_norm_layers, generator)
    return state


def main():
    if len(sys.argv) != 2:
        sys.exit(f'usage: {sys.argv[0]} OUT_DIR')
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    generator = torch.Generator().manual_seed(SEED)
    for name, file in FILES.items():
        torch.save(state_dict(name, generator), os.path.join(out_dir, file),
                   _use_new_zipfile_serialization=name not in LEGACY)
    print(json.dumps({name: os.path.join(out_dir, file) for name, file in FILES.items()}))


if __name__ == '__main__':
    main()
