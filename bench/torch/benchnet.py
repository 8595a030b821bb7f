"""PyTorch twin of sifd's bench net (src/lib/models/benchnet.ts) for `npm run bench -- versus-torch`.

Same layers, 'same' padding, ReLU after every conv but the head, bilinear x2 with align_corners=False, BCE with
logits, Adam(1e-3), random input of the same shape. Prints one JSON object. Not a product dependency: it runs in a
scratch venv (environment/.cache/torch-venv) with torch from the local pip index.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BenchNet(nn.Module):
    def __init__(self):
        super().__init__()
        c = lambda cin, cout, k=3, groups=1: nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups)
        self.e1 = nn.ModuleList([c(3, 16), c(16, 16)])
        self.e2 = nn.ModuleList([c(16, 32), c(32, 32, groups=32), c(32, 32, k=1)])
        self.mid = nn.ModuleList([c(32, 64), c(64, 64)])
        self.up2 = c(96, 32)
        self.up1 = c(48, 16)
        self.head = c(16, 1, k=1)

    def forward(self, x):
        for conv in self.e1:
            x = F.relu(conv(x))
        e1 = x
        x = F.max_pool2d(e1, 2)
        for conv in self.e2:
            x = F.relu(conv(x))
        e2 = x
        x = F.max_pool2d(e2, 2)
        for conv in self.mid:
            x = F.relu(conv(x))
        up = lambda t: F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)
        x = F.relu(self.up2(torch.cat([up(x), e2], 1)))
        x = F.relu(self.up1(torch.cat([up(x), e1], 1)))
        return self.head(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--channels-last", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    net = BenchNet().to(memory_format=fmt)
    x = torch.rand(a.batch, 3, a.size, a.size).to(memory_format=fmt)
    y = (torch.rand(a.batch, 1, a.size, a.size) > 0.5).float()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    ms, cpu = [], []
    for _ in range(a.steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    infer = []
    with torch.no_grad():
        for _ in range(max(3, min(a.steps, 10))):
            t0 = time.perf_counter()
            net(x)
            infer.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "backend": f"pytorch {torch.__version__}" + (" channels_last" if a.channels_last else ""),
        "threads": a.threads,
        "step_ms_median": round(statistics.median(ms), 1),
        "step_ms_min": round(min(ms), 1),
        # CPU time of every thread per step (compare with train-step's step_cpu_ms_median on a loaded machine).
        "step_cpu_ms_median": round(statistics.median(cpu), 1),
        "infer_ms_median": round(statistics.median(infer), 1),
        "steps": a.steps,
        "input": [a.batch, a.size, a.size, 3],
    }))


if __name__ == "__main__":
    main()
