"""PyTorch CPU timings for `npm run bench:runtime`: torchvision's ResNet/DenseNet (the original
study's framework) with random weights, on the same input size, batch sizes and thread count as
the ONNX Runtime and TF.js runs, so the benchmark can print each runtime's ratio to PyTorch.

Reads one JSON object from argv[1]:
  {"models": ["resnet152", ...], "batches": [1, 8, 32], "input_size": 64, "threads": 2,
   "min_repeats": 5, "max_repeats": 50, "min_seconds": 2.0, "num_classes": 6}
Writes one JSON object to stdout: {"torch": "1.13.0", "torchvision": "0.14.1", "results": [...]}
with, per model and batch, every timed run in milliseconds. Debian's python3-torch only: call it
with /usr/bin/python3. Never a runtime dependency of the service.
"""
import json
import sys
import time

import torch
import torchvision


def timed_runs(model, batch, input_size, min_repeats, max_repeats, min_seconds):
    x = torch.randn(batch, 3, input_size, input_size)
    with torch.inference_mode():
        torch.softmax(model(x), dim=1)  # warm-up: allocations, kernel choice
        runs = []
        started = time.perf_counter()
        while len(runs) < min_repeats or (
            len(runs) < max_repeats and time.perf_counter() - started < min_seconds
        ):
            t0 = time.perf_counter()
            torch.softmax(model(x), dim=1)
            runs.append((time.perf_counter() - t0) * 1000.0)
    return runs


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    results = []
    skipped = []
    for name in spec["models"]:
        if not hasattr(torchvision.models, name):
            skipped.append(name)  # our reduced configs have no torchvision counterpart
            continue
        model = getattr(torchvision.models, name)(weights=None, num_classes=spec["num_classes"]).eval()
        for batch in spec["batches"]:
            runs = timed_runs(
                model,
                batch,
                spec["input_size"],
                spec["min_repeats"],
                spec["max_repeats"],
                spec["min_seconds"],
            )
            results.append({"model": name, "batch": batch, "runs_ms": runs})
            print(f"torch {name} batch {batch}: {sorted(runs)[len(runs) // 2]:.1f} ms", file=sys.stderr)
    json.dump(
        {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "threads": torch.get_num_threads(),
            "results": results,
            "skipped_models": skipped,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
