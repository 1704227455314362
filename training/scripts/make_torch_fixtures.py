#!/usr/bin/python3
"""Regenerates training/test/fixtures/torchvision: the ground truth for the TF.js backbones.

Run by hand (never in CI) with Debian's torch/torchvision (apt-get install python3-torchvision):

    /usr/bin/python3 training/scripts/make_torch_fixtures.py

It writes, for each reduced configuration (the same numbers as training/src/backbones/config.ts):
  <name>.pth            torch.save(state_dict) in the zip format, random weights and BN statistics
  <name>.safetensors    the same tensors as safetensors (written here: the format is a JSON header + raw bytes)
and
  densenet-tiny-legacy.pth  the pre-1.6 (non-zip) torch.save format with the old DenseNet key names
                            ("norm.1"), as torchvision's own densenet161 ImageNet file has them
  input-nchw.f32        a fixed input batch, float32 little-endian, NCHW (TF.js gets the NHWC transpose)
  parity.json           the configs, the input shape and torchvision's logits for the input, per model
  dtypes.pth, dtypes-legacy.pth, dtypes.json
                        tensors of every float dtype, a transposed (non-contiguous) tensor and views
                        sharing one storage, with their values, to check the readers against torch
  pickles.json          plain values pickled with protocols 2 and 5, to check the unpickler
  resnet152.keys.json, densenet161.keys.json
                        (key, shape, dtype) of the full ImageNet-shaped (1000 classes) state dicts

The models are torchvision's own classes: DenseNet takes every structural parameter; for narrow
ResNets only the stage widths differ from ResNet.__init__, so NarrowResNet reuses torchvision's
blocks, _make_layer and forward.
"""

import collections
import json
import os
import pickle
import re
import struct

import torch
import torchvision
from torch import nn
from torchvision.models.densenet import DenseNet
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torchvision')
SEED = 20240601
NUM_CLASSES = 6
INPUT_SHAPE = (2, 3, 41, 41)
LOGIT_SCALE = 8.0  # odd size: exercises floor division in every stride-2 stage

# Must equal BACKBONES in training/src/backbones/config.ts (the tests compare).
RESNETS = {
    'resnet-tiny': dict(block='basic', layers=[1, 1, 1, 1], widths=[4, 8, 16, 32], stemWidth=4),
    'resnet-tiny-bottleneck': dict(block='bottleneck', layers=[1, 1, 1, 1], widths=[4, 8, 8, 16], stemWidth=8),
}
DENSENETS = {
    'densenet-tiny': dict(growthRate=4, blockConfig=[2, 2, 2, 2], initFeatures=8, bnSize=4),
}


class NarrowResNet(ResNet):
    """torchvision's ResNet with configurable stage widths (ResNet.__init__ hard-codes 64..512)."""

    def __init__(self, block, layers, widths, stem_width, num_classes):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = stem_width
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)


def randomize(model, generator):
    """Random weights AND BatchNorm statistics, so that parity checks every imported tensor."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
                module.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=generator)))
            elif isinstance(module, nn.Linear):
                # Larger than torch's default init so logits are O(1) and the 1e-4 parity check is strict.
                module.weight.mul_(LOGIT_SCALE)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
    return model


SAFETENSORS_DTYPES = {torch.float32: 'F32', torch.int64: 'I64', torch.float16: 'F16', torch.float64: 'F64'}


def save_safetensors(state_dict, path):
    header, chunks, offset = {}, [], 0
    for key, tensor in state_dict.items():
        data = tensor.detach().contiguous().cpu().numpy().tobytes()
        header[key] = {'dtype': SAFETENSORS_DTYPES[tensor.dtype], 'shape': list(tensor.shape),
                       'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header['__metadata__'] = {'format': 'pt'}
    encoded = json.dumps(header, separators=(',', ':')).encode('utf-8')
    encoded += b' ' * (-len(encoded) % 8)  # the spec pads the header with spaces to an 8-byte boundary
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)


def old_densenet_names(state_dict):
    """The key names torchvision's 2017 DenseNet files use ('norm.1' for 'norm1'), undone by its loader."""
    pattern = re.compile(r'^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.((?:weight|bias|running_mean|running_var|num_batches_tracked))$')
    renamed = collections.OrderedDict()
    for key, value in state_dict.items():
        match = pattern.match(key)
        renamed[f'{match.group(1)}.{match.group(2)}.{match.group(3)}' if match else key] = value
    return renamed


def manifest(model):
    return [{'key': k, 'shape': list(v.shape), 'dtype': str(v.dtype).replace('torch.', '')}
            for k, v in model.state_dict().items()]


def dtype_fixtures(generator):
    base = torch.randn(3, 5, generator=generator)
    shared = torch.arange(12, dtype=torch.float32)
    tensors = collections.OrderedDict([
        ('float32', base),
        ('float64', base.double() * 3),
        ('float16', (base * 100).half()),  # includes values that need the full half range
        ('bfloat16', base.bfloat16()),
        ('transposed', base.t()),  # strides (1, 5): stored as the original storage
        ('view.head', shared[:4]),  # two views of one storage, the second at an offset
        ('view.tail', shared[6:].view(2, 3)),
        ('int64', torch.tensor([7, -3], dtype=torch.int64)),
        ('scalar', torch.tensor(2.5)),
    ])
    torch.save(tensors, os.path.join(OUT_DIR, 'dtypes.pth'))
    torch.save(tensors, os.path.join(OUT_DIR, 'dtypes-legacy.pth'), _use_new_zipfile_serialization=False)
    expected = {k: {'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape),
                    'values': v.float().contiguous().view(-1).tolist()} for k, v in tensors.items()}
    with open(os.path.join(OUT_DIR, 'dtypes.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')


def pickle_fixtures():
    shared = ['x']
    value = {
        'ints': [0, 255, 65535, -1, 2 ** 31 - 1, -2 ** 31, 2 ** 40, -2 ** 40, 2 ** 70, -2 ** 70],
        'floats': [3.5, -0.0, 1e-300],
        'flags': [True, False, None],
        'text': ['', 'ascii', 'ünïcödé', 'x' * 300],
        'bytes': b'\x00\x01\xff',
        'tuples': [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
        'nested': {'a': {'b': [[], {}]}},
        'shared': [shared, shared],
    }
    with open(os.path.join(OUT_DIR, 'pickles.json'), 'w') as f:
        json.dump({f'protocol{p}': pickle.dumps(value, protocol=p).hex() for p in (2, 5)}, f, indent=1)
        f.write('\n')


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    generator = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    x = torch.randn(INPUT_SHAPE, generator=generator)
    with open(os.path.join(OUT_DIR, 'input-nchw.f32'), 'wb') as f:
        f.write(x.numpy().astype('<f4').tobytes())

    models = {}
    for name, cfg in RESNETS.items():
        block = BasicBlock if cfg['block'] == 'basic' else Bottleneck
        models[name] = ({'family': 'resnet', 'name': name, **cfg},
                        NarrowResNet(block, cfg['layers'], cfg['widths'], cfg['stemWidth'], NUM_CLASSES))
    for name, cfg in DENSENETS.items():
        models[name] = ({'family': 'densenet', 'name': name, **cfg},
                        DenseNet(growth_rate=cfg['growthRate'], block_config=tuple(cfg['blockConfig']),
                                 num_init_features=cfg['initFeatures'], bn_size=cfg['bnSize'], drop_rate=0,
                                 num_classes=NUM_CLASSES))

    parity = {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'seed': SEED,
              'input': {'file': 'input-nchw.f32', 'layout': 'NCHW', 'shape': list(INPUT_SHAPE)}, 'models': {}}
    for name, (cfg, model) in models.items():
        randomize(model, generator).eval()
        with torch.no_grad():
            logits = model(x)
        state = model.state_dict()
        torch.save(state, os.path.join(OUT_DIR, f'{name}.pth'))
        save_safetensors(state, os.path.join(OUT_DIR, f'{name}.safetensors'))
        parity['models'][name] = {
            'config': cfg,
            'numClasses': NUM_CLASSES,
            'parameters': sum(p.numel() for p in model.parameters()),
            'logits': logits.tolist(),
            'probabilities': torch.softmax(logits, dim=1).tolist(),
        }
        if name == 'densenet-tiny':
            torch.save(old_densenet_names(state), os.path.join(OUT_DIR, 'densenet-tiny-legacy.pth'),
                       _use_new_zipfile_serialization=False)
            parity['models'][name]['legacyFile'] = 'densenet-tiny-legacy.pth'
    with open(os.path.join(OUT_DIR, 'parity.json'), 'w') as f:
        json.dump(parity, f, indent=1)
        f.write('\n')

    dtype_fixtures(generator)
    pickle_fixtures()

    for name in ['resnet152', 'densenet161']:
        full = getattr(torchvision.models, name)()  # ImageNet shape: 1000 classes, as the published weights
        entry = {'model': name, 'torchvision': torchvision.__version__, 'numClasses': 1000,
                 'parameters': sum(p.numel() for p in full.parameters()), 'keys': manifest(full)}
        with open(os.path.join(OUT_DIR, f'{name}.keys.json'), 'w') as f:
            json.dump(entry, f, separators=(',', ':'))
            f.write('\n')
    print('wrote', sorted(os.listdir(OUT_DIR)))


if __name__ == '__main__':
    main()
