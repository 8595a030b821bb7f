"""HF SegformerForSemanticSegmentation (mit-b0 config, 1 label) train-step timing, the PyTorch reference of
`npm run bench -- versus-torch`: AdamW on random images with a square mask, the model's own loss (BCE with logits
on the upsampled logits for 1 label), and one batch-1 inference forward, at each size. Prints one JSON object.
Not a product dependency: it runs in a scratch venv (environment/.cache/torch-venv).
"""
import argparse
import json
import statistics
import time

import torch
from transformers import SegformerConfig, SegformerForSemanticSegmentation


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="256,512")
    ap.add_argument("--batch", default="2,1")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = SegformerForSemanticSegmentation(SegformerConfig(num_labels=1))  # the config's defaults are mit-b0
    model.train()
    params = sum(p.numel() for p in model.parameters())
    sizes = [int(s) for s in a.sizes.split(",")]
    batches = [int(b) for b in a.batch.split(",")]
    out = {"backend": f"pytorch {torch.__version__} (HF SegformerForSemanticSegmentation, mit-b0, 1 label)",
           "threads": a.threads, "steps": a.steps, "params": params}
    for i, size in enumerate(sizes):
        batch = batches[min(i, len(batches) - 1)]
        opt = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01)
        x = torch.randn(batch, 3, size, size)
        labels = torch.zeros(batch, size, size, dtype=torch.long)
        s = size // 4
        labels[:, s:2 * s, s:2 * s] = 1
        train, infer, cpu = [], [], []
        for k in range(a.warmup + a.steps):
            c0 = time.process_time()
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = model(pixel_values=x, labels=labels).loss
            loss.backward()
            opt.step()
            loss.item()
            t1 = time.perf_counter()
            c1 = time.process_time() - c0
            model.eval()
            with torch.no_grad():
                model(pixel_values=x[:1]).logits.sum().item()
            model.train()
            t2 = time.perf_counter()
            if k >= a.warmup:
                train.append((t1 - t0) * 1000)
                cpu.append(c1 * 1000)
                infer.append((t2 - t1) * 1000)
        out[f"{size}px"] = {
            "batch": batch,
            "train_step_ms_median": round(statistics.median(train), 1),
            "train_step_ms_min": round(min(train), 1),
            "train_step_cpu_ms_median": round(statistics.median(cpu), 1),
            "infer_ms_median_batch1": round(statistics.median(infer), 1),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
