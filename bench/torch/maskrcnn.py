"""torchvision reference for bench/maskrcnn.ts: the seed's Mask R-CNN (test/fixtures/maskrcnn/make_maskrcnn.py
`seed_model`), one AdamW train step and one eval forward at 256 px, batch 4, on this machine's CPU. Prints JSON.
Debian's python3-torchvision (torch 1.13 / torchvision 0.14); a cross-check, never a product dependency:
    /usr/bin/python3 bench/torch/maskrcnn.py [steps] [threads]
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'maskrcnn'))
from make_maskrcnn import seed_model  # noqa: E402


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count())
    torch.manual_seed(0)
    model = seed_model()
    images = [torch.rand(3, 256, 256) for _ in range(4)]
    targets = []
    for i in range(4):
        masks = torch.zeros(1, 256, 256, dtype=torch.uint8)
        masks[0, 40 + 10 * i:120, 60:150] = 1
        targets.append({'boxes': torch.tensor([[60.0, 40.0 + 10 * i, 150.0, 120.0]]), 'labels': torch.ones(1, dtype=torch.int64), 'masks': masks})
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    model.train()
    times = []
    for s in range(steps + 1):
        t0 = time.perf_counter()
        loss = sum(model(images, targets).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if s:  # the first step warms up
            times.append((time.perf_counter() - t0) * 1000)
    model.eval()
    infer = []
    with torch.no_grad():
        for s in range(steps + 1):
            t0 = time.perf_counter()
            model(images)
            if s:
                infer.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'framework': f'torch {torch.__version__} / torchvision (cpu, {torch.get_num_threads()} threads)', 'train_step_ms': sorted(times)[len(times) // 2], 'infer_ms': sorted(infer)[len(infer) // 2], 'batch': 4, 'size': 256}))


if __name__ == '__main__':
    main()
