"""Memory estimator vs measured peak RSS on CPU, several models, shapes and methods.

    python benchmarks/bench_memory.py            # all cases (~20 min on 2 cores)
    python benchmarks/bench_memory.py --quick    # tiny shapes and two small-model cases

Each case runs in a fresh subprocess: import torch/transformers/peft, warm the kernels up on a
throw-away tiny model, read the current RSS (baseline), build the model (fp32, random weights),
restart the RSS high-water mark (clear_refs; from_config's random init has transients a checkpoint
load does not), run the step (inference: one forward; full/lora: two AdamW steps), read the peak
RSS (getrusage ru_maxrss). Measured = peak - baseline (resident weights + the step's peak).

Two comparisons per case:
  process: `estimate_memory(..., device="cpu")` (live bytes + glibc retention) / the peak with
           glibc's default malloc: what a user's process needs. Goal 0.85-1.15.
  live:    the simulated live bytes alone (the estimate without retention) / the peak with a fixed
           mmap threshold (MALLOC_MMAP_THRESHOLD_=65536), where freed blocks go back to the OS and
           RSS follows the bytes PyTorch holds: checks the simulation on its own.
Tiny shapes show the fixed runtime overhead (tens of MiB) that no per-model estimate includes.
Linux/glibc only (/proc, malloc tunables).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

TINY_GPT2 = {"model_type": "gpt2", "vocab_size": 2000, "n_embd": 128, "n_layer": 2, "n_head": 4, "n_positions": 512,
             "bos_token_id": 0, "eos_token_id": 0}
TINY_T5 = {"model_type": "t5", "vocab_size": 2000, "d_model": 128, "d_kv": 32, "d_ff": 256, "num_layers": 2,
           "num_decoder_layers": 2, "num_heads": 4, "feed_forward_proj": "gated-gelu", "decoder_start_token_id": 0}


def _catalog_dims(model_id: str) -> dict:
    from lifecycle.catalog import get_entry

    dims = dict(get_entry(model_id).config)
    if dims["model_type"] == "t5":
        dims["decoder_start_token_id"] = 0
    return dims


CASES = [
    # (label, dims, method, batch, seq)
    ("tiny-gpt2", TINY_GPT2, "inference", 4, 256),
    ("tiny-gpt2", TINY_GPT2, "full", 4, 256),
    ("tiny-t5", TINY_T5, "full", 4, 256),
    ("flan-t5-small", "google/flan-t5-small", "inference", 8, 256),
    ("flan-t5-small", "google/flan-t5-small", "inference", 16, 512),
    ("flan-t5-small", "google/flan-t5-small", "full", 4, 256),
    ("flan-t5-small", "google/flan-t5-small", "full", 8, 128),
    ("flan-t5-small", "google/flan-t5-small", "lora", 4, 256),
    ("flan-t5-small", "google/flan-t5-small", "lora", 8, 512),
    ("gpt2", "gpt2", "inference", 8, 256),
    ("gpt2", "gpt2", "full", 4, 256),
    ("gpt2", "gpt2", "full", 2, 512),
    ("gpt2", "gpt2", "lora", 4, 256),
    ("gpt2", "gpt2", "lora", 8, 512),
    ("distilbert", "distilbert-base-uncased", "full", 8, 256),
    ("flan-t5-base", "google/flan-t5-base", "lora", 4, 256),
]
QUICK = {("flan-t5-small", "lora", 4), ("gpt2", "inference", 8)}

CHILD = r'''
import gc, json, os, resource, sys
import torch
torch.manual_seed(0)
import transformers, peft
from lifecycle.catalog.params import _untie_if_checkpoint_is_untied, as_spec
from lifecycle.catalog.simulate import _inputs, _loss

dims, method, batch, seq = json.loads(sys.argv[1])

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def build(d):
    spec = as_spec(d)
    model = getattr(transformers, spec.model_class).from_config(spec.config)
    _untie_if_checkpoint_is_untied(model, spec.raw)  # FLAN-T5 ships an untied lm_head, as the estimate counts
    return model, spec.architecture

def step(model, arch, train, b, s, steps):
    model.train(train)
    if not train:
        with torch.no_grad():
            model(**_inputs(model, arch, b, s, False))
        return
    if method != "full":
        model = peft.get_peft_model(model, peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
            target_modules=peft.utils.constants.TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING[model.config.model_type]))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, foreach=False)
    for _ in range(steps):
        _loss(model(**_inputs(model, arch, b, s, True))).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

# warm-up: load kernels, thread pools and allocator arenas on a throw-away one-layer model
SHRINK = {"n_layer": 1, "num_layers": 1, "num_decoder_layers": 1, "n_embd": 64, "d_model": 64, "d_ff": 64,
          "d_kv": 16, "n_head": 4, "num_heads": 4, "vocab_size": 500}
m, arch = build({k: SHRINK.get(k, v) for k, v in dims.items()})
step(m, arch, method != "inference", 2, 32, 2)
del m
gc.collect()
base = rss()
model, arch = build(dims)
gc.collect()
# from_config's random init has transients a checkpoint load does not: restart the high-water mark
# here (Linux: clear_refs 5 resets VmHWM and ru_maxrss to the current RSS), so the peak measured is
# resident weights + the step
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
step(model, arch, method != "inference", batch, seq, 2)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"measured": peak - base}))
'''


# glibc raises its mmap threshold as large blocks are freed, then serves activation-sized blocks
# from the heap and keeps them after they are freed: RSS then exceeds the bytes PyTorch holds. A
# fixed threshold returns freed blocks to the OS, so RSS follows the live bytes.
FIXED_MMAP = {"MALLOC_MMAP_THRESHOLD_": "65536"}


def measure(dims: dict, method: str, batch: int, seq: int, extra_env: dict | None = None) -> int:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error", PYTHONWARNINGS="ignore",
               **(extra_env or {}))
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([dims, method, batch, seq])], cwd=REPO,
                         capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])["measured"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes and two small-model cases")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from lifecycle.catalog.memory import estimate_memory

    mib = 1024**2
    print("process: estimate (device cpu) / peak RSS with glibc's default malloc")
    print("live:    simulated live bytes / peak RSS with MALLOC_MMAP_THRESHOLD_=65536")
    print(f"{'case':14} {'method':9} {'b x seq':>8} {'estimate':>9} {'glibc':>9} {'process':>7} "
          f"{'live':>9} {'fixed':>9} {'live':>6}  (MiB)")
    ratios: dict[str, list[tuple[str, float]]] = {"process": [], "live": []}
    for label, dims, method, batch, seq in CASES:
        if args.quick and not label.startswith("tiny") and (label, method, batch) not in QUICK:
            continue
        dims = _catalog_dims(dims) if isinstance(dims, str) else dims
        est = estimate_memory(dims, method, "fp32", batch, seq, device="cpu")
        live = est.total_bytes - est.components.get("allocator_retention", 0)
        default = measure(dims, method, batch, seq)
        fixed = measure(dims, method, batch, seq, FIXED_MMAP)
        ratios["process"].append((label, est.total_bytes / default))
        ratios["live"].append((label, live / fixed))
        print(f"{label:14} {method:9} {f'{batch}x{seq}':>8} {est.total_bytes / mib:9.1f} {default / mib:9.1f} "
              f"{est.total_bytes / default:7.2f} {live / mib:9.1f} {fixed / mib:9.1f} {live / fixed:6.2f}", flush=True)
    for kind, rows in ratios.items():
        small = [r for label, r in rows if not label.startswith("tiny")]
        if small:
            worst = max(small, key=lambda r: abs(r - 1))
            print(f"real model shapes, {kind}: ratios {min(small):.2f}-{max(small):.2f}, worst {worst:.2f} "
                  "(goal: 0.85-1.15)")


if __name__ == "__main__":
    main()
