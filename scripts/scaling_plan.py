"""The arithmetic of docs/scaling.md's IMDB-WIKI-DIR plan: an ESTIMATE from the throughput
measured here (scripts/scaling_throughput.py) and seed 000's GPU figures (app. A, Tables 4-5).

    python scripts/scaling_plan.py > docs/results/issue-11/scaling/plan.txt

Every line prints its formula with the numbers put in. Assumptions are named as such.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

# IMDB-WIKI-DIR (seed 004, app. B.1; seed 000, app. B)
N_TRAIN, N_VAL, N_TEST = 191_509, 11_022, 11_022
# seed 000, app. A (one RTX 6000 Ada): backbone 13.10 GPU h for 100 epochs at batch 64;
# diffusion 0.50 GPU h for 1000 epochs at batch 256; Table 5a generation T = 50, batch 64
PAPER_BACKBONE_H, PAPER_BACKBONE_EPOCHS = 13.10, 100
PAPER_DIFFUSION_H, PAPER_DIFFUSION_EPOCHS = 0.50, 1000
PAPER_GENERATION_PER_S = 2_817
GPUS = 8
EFFICIENCIES = (0.9, 0.75)  # DDP scaling efficiency on 8 GPUs: ASSUMED, not measured
FORWARD_SPEEDUP = 3.0  # forward only vs a training step (fwd + bwd ~ 3x fwd): ASSUMED
EPOCHS_004 = 90  # seed 004, app. C.1
SYNTHETIC = int(round(0.5 * N_TRAIN))  # seed 000, Table 4d's "synth. ratio 0.5"
BINS = 20  # K, seed 000 Table 6


def line(text: str) -> None:
    print(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--throughput", nargs="+", default=[
        "docs/results/issue-11/scaling/throughput-quiet.json",
        "docs/results/issue-11/scaling/throughput-decode-gate.json"],
        help="result files of scripts/scaling_throughput.py; a figure is taken from the first "
             "file that has it")  # fmt: skip
    t: dict = {}
    for path in ap.parse_args().throughput:
        for key, value in json.loads(Path(path).read_text()).items():
            t.setdefault(key, value)
    cpu_resnet = t["resnet50_train"]["images_per_s"]
    decode = t["image_decode"]["images_per_s"]
    d_train = t["diffusion_2048"]["train_samples_per_s"]
    d_gen = t["diffusion_2048"]["generation_samples_per_s"]
    gate = t["gate_fit"]

    line("ESTIMATE for IMDB-WIKI-DIR on 8 GPUs (not a run)")
    line(f"measured here (1 CPU thread): ResNet-50 train {cpu_resnet:.2f} img/s, decode "
         f"{decode:.1f} img/s, diffusion train {d_train:.0f} samples/s, generation "
         f"{d_gen:.1f} samples/s, matmul {t['matmul_gflops']:.0f} GFLOP/s")  # fmt: skip
    r = N_TRAIN * PAPER_BACKBONE_EPOCHS / (PAPER_BACKBONE_H * 3600)
    line(f"R = one GPU's ResNet-50 rate = {N_TRAIN:,} x {PAPER_BACKBONE_EPOCHS} / "
         f"({PAPER_BACKBONE_H} x 3600) = {r:.0f} img/s (seed 000, app. A)")  # fmt: skip
    images = EPOCHS_004 * N_TRAIN
    line(f"stage 1, seed 004 setup: {EPOCHS_004} x {N_TRAIN:,} = {images / 1e6:.2f} M images")
    totals = {}
    for e in EFFICIENCIES:
        rate = GPUS * r * e
        h = images / rate / 3600
        totals[e] = h
        line(f"  e = {e}: {GPUS} x {r:.0f} x {e} = {rate:,.0f} img/s -> {images / 1e6:.2f} M / "
             f"{rate:,.0f} = {h:.2f} h")  # fmt: skip
    images_000 = PAPER_BACKBONE_EPOCHS * N_TRAIN
    line(f"stage 1, seed 000 setup: {images_000 / 1e6:.2f} M images / {GPUS * r * 0.9:,.0f} = "
         f"{images_000 / (GPUS * r * 0.9) / 3600:.2f} h (e = 0.9)")  # fmt: skip
    cpu_days = images / cpu_resnet / 86400
    line(f"  the same on this CPU, 1 thread: {images / 1e6:.2f} M / {cpu_resnet:.2f} = "
         f"{cpu_days:.0f} days")  # fmt: skip
    val_s = N_VAL / (FORWARD_SPEEDUP * r)
    val_h = EPOCHS_004 * val_s / 3600
    line(f"validation, every rank all {N_VAL:,} images: {N_VAL:,} / ({FORWARD_SPEEDUP:.0f} x "
         f"{r:.0f}) = {val_s:.1f} s per epoch x {EPOCHS_004} = {val_h:.2f} h")  # fmt: skip
    need = GPUS * r * EFFICIENCIES[0]
    loader = GPUS * decode
    line(f"decoding in the training process, 1 core per rank: {GPUS} x {decode:.1f} = "
         f"{loader:.0f} img/s < {need:,.0f} needed -> stage 1 decode-bound: "
         f"{images / 1e6:.2f} M / {loader:.0f} = {images / loader / 3600:.1f} h")  # fmt: skip
    workers = math.ceil(need / GPUS / decode)
    line(f"  decode workers per rank to keep up: ceil({need:,.0f} / {GPUS} / {decode:.1f}) = "
         f"{workers} ({GPUS * workers} cores)")  # fmt: skip
    n_all = N_TRAIN + N_VAL + N_TEST
    enc_h = n_all / (FORWARD_SPEEDUP * r) / 3600
    line(f"stage 2 features, every rank: {n_all:,} / ({FORWARD_SPEEDUP:.0f} x {r:.0f}) = "
         f"{enc_h * 3600:.0f} s")  # fmt: skip
    samples = PAPER_DIFFUSION_EPOCHS * N_TRAIN
    line(f"stage 3 diffusion: {PAPER_DIFFUSION_EPOCHS} x {N_TRAIN:,} = {samples / 1e6:.1f} M "
         f"samples; one GPU {PAPER_DIFFUSION_H} h (seed 000, app. A); this CPU: "
         f"{samples / 1e6:.1f} M / {d_train:.0f} = {samples / d_train / 3600:.0f} h")  # fmt: skip
    line(f"generation of {SYNTHETIC:,} (ratio 0.5): one GPU {SYNTHETIC:,} / "
         f"{PAPER_GENERATION_PER_S:,} = {SYNTHETIC / PAPER_GENERATION_PER_S:.0f} s; this CPU "
         f"{SYNTHETIC:,} / {d_gen:.1f} = {SYNTHETIC / d_gen:.0f} s")  # fmt: skip
    # the measured fit of one bin (its own Ledoit-Wolf and 5 folds') is seconds_per_bin +
    # seconds_per_row x its rows; K bins hold the N training rows between them
    gate_s = BINS * gate["seconds_per_bin"] + N_TRAIN * gate["seconds_per_row"]
    line(f"gate fit (CPU, 1 thread): {BINS} bins x {gate['seconds_per_bin']:.2f} s + "
         f"{N_TRAIN:,} rows x {gate['seconds_per_row'] * 1e3:.3f} ms = {gate_s:.0f} s")  # fmt: skip
    rest_h = (SYNTHETIC / PAPER_GENERATION_PER_S + gate_s) / 3600
    for e, h in totals.items():
        total = h + val_h + enc_h + PAPER_DIFFUSION_H + rest_h
        line(f"total per seed, e = {e}, loader keeping up: {h:.2f} + {val_h:.2f} + "
             f"{enc_h:.2f} + {PAPER_DIFFUSION_H:.2f} + {rest_h:.2f} = {total:.1f} h")  # fmt: skip
    # today's loop: every image decoded in the process that uses it, one core per rank
    s1, v, enc = images / loader / 3600, EPOCHS_004 * N_VAL / decode / 3600, n_all / decode / 3600
    line(f"decode-bound today: stage 1 {s1:.2f} h; validation {EPOCHS_004} x {N_VAL:,} / "
         f"{decode:.1f} = {v:.2f} h; features {n_all:,} / {decode:.1f} = {enc:.2f} h; total "
         f"{s1:.2f} + {v:.2f} + {enc:.2f} + {PAPER_DIFFUSION_H:.2f} + {rest_h:.2f} = "
         f"{s1 + v + enc + PAPER_DIFFUSION_H + rest_h:.1f} h")  # fmt: skip


if __name__ == "__main__":
    main()
