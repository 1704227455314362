"""PyTorch CPU reference for `npm run bench:train` (training/bench/train-bench.ts).

Trains the same architectures as the TF.js benchmark -- torchvision's own model where the
configuration is a torchvision one, the same block classes wired with the reduced widths
otherwise -- with the same step as our training loop: cross-entropy, global gradient-norm
clipping, AdamW. Prints one JSON object per (model, size, threads) on stdout.

Run with Debian's interpreter, which has python3-torch: /usr/bin/python3 torch_train_bench.py --spec ...
"""

import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

CLASSES = 6
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-2
CLIP_NORM = 1.0


class ReducedResNet(nn.Module):
    """torchvision's ResNet topology with configurable stem and stage widths."""

    def __init__(self, block, layers, widths, stem_width, num_classes):
        super().__init__()
        self.inplanes = stem_width
        self.conv1 = nn.Conv2d(3, stem_width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        stages = []
        for index, (blocks, planes) in enumerate(zip(layers, widths)):
            stages.append(self._make_layer(block, planes, blocks, 1 if index == 0 else 2))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


TORCHVISION_WIDTHS = [64, 128, 256, 512]


def build(config):
    """A torch module for one of our backbone configurations (training/src/backbones/config.ts)."""
    if config["family"] == "resnet":
        block = BasicBlock if config["block"] == "basic" else Bottleneck
        stock = config["stemWidth"] == 64 and list(config["widths"]) == TORCHVISION_WIDTHS
        if stock and hasattr(torchvision.models, config["name"]):
            return getattr(torchvision.models, config["name"])(num_classes=CLASSES), "torchvision"
        return (
            ReducedResNet(block, config["layers"], config["widths"], config["stemWidth"], CLASSES),
            "torchvision blocks",
        )
    model = torchvision.models.DenseNet(
        growth_rate=config["growthRate"],
        block_config=tuple(config["blockConfig"]),
        num_init_features=config["initFeatures"],
        bn_size=config["bnSize"],
        num_classes=CLASSES,
    )
    return model, "torchvision"


def measure(config, size, batch, warmup, steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model, source = build(config)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 3, size, size)
    y = torch.arange(batch) % CLASSES

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
        optimizer.step()
        return loss.item()

    for _ in range(warmup):
        step()
    wall, cpu = [], []
    for _ in range(steps):
        w0, c0 = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {
        "model": config["name"],
        "source": source,
        "size": size,
        "batch": batch,
        "threads": threads,
        "stepMsWall": 1000 * statistics.median(wall),
        "stepMsCpu": 1000 * statistics.median(cpu),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="JSON list of backbone configurations")
    parser.add_argument("--sizes", required=True, help="comma-separated input sizes")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_interop_threads(1)
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__}), flush=True)
    for config in json.loads(args.spec):
        for size in [int(s) for s in args.sizes.split(",")]:
            for threads in [int(t) for t in args.threads.split(",")]:
                result = measure(config, size, args.batch, args.warmup, args.steps, threads)
                print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
