"""Two CPU processes under torchrun (gloo) against one process, 3 seeds each, on the 600-row
long-tailed table of the tests: vanilla and LatentDiff, the network and the diffusion model
trained as one DDP job in the 2-process run (no gate, 200 diffusion steps: see ARGS).

    OMP_NUM_THREADS=1 python scripts/torchrun_vs_one.py \
        [--out docs/results/issue-11/scaling/torchrun_vs_one.json]

Writes per (method, region, metric) the mean and std over seeds of both runs and the gap of
the means in units of the 1-process seed std, plus the seconds of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import long_tailed_frame  # noqa: E402

#: no gate: the head retrains on every synthetic feature, so that LatentDiff's metrics depend on
#: the diffusion model (with the gate, a model this small and short gets none accepted)
ARGS = ["--epochs", "8", "--batch-size", "64", "--n-bins", "6", "--ratio", "0.5", "--no-gate",
        "--no-progress", "--seeds", "0,1,2",
        "--diffusion-option", "n_steps=200", "--diffusion-option", "hidden_dim=64",
        "--diffusion-option", "n_blocks=1", "--diffusion-option", "embed_dim=16",
        "--diffusion-option", "batch_size=64"]  # fmt: skip


def _run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _table(out: Path) -> dict:
    values: dict = {}
    for r in json.loads((out / "results.json").read_text()):
        if r["region"] in ("all", "few") and r["metric"] in ("mae", "mse"):
            values.setdefault((r["method"], r["region"], r["metric"]), []).append(r["value"])
    return values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/results/issue-11/scaling/torchrun_vs_one.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "tiny.csv"
        long_tailed_frame(600).to_csv(csv, index=False)
        common = ["bench", "--data", str(csv), "--target", "target", *ARGS]
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        two = [*launcher, "--nproc-per-node", "2", "-m", "latentdiff.cli", *common,
               "--out", f"{tmp}/two"]  # fmt: skip
        one = [sys.executable, "-m", "latentdiff.cli", *common, "--out", f"{tmp}/one"]
        seconds = {"two_processes": _run(two), "one_process": _run(one)}
        t2, t1 = _table(Path(tmp) / "two"), _table(Path(tmp) / "one")
    rows = []
    for key in sorted(t1):
        v1, v2 = np.array(t1[key]), np.array(t2[key])
        sd = float(v1.std(ddof=1))
        gap = float((v2.mean() - v1.mean()) / sd) if sd else None
        rows.append({"method": key[0], "region": key[1], "metric": key[2],
                     "one_mean": float(v1.mean()), "one_std": sd,
                     "two_mean": float(v2.mean()), "two_std": float(v2.std(ddof=1)),
                     "relative_gap": float(v2.mean() / v1.mean() - 1),
                     "gap_in_one_std": gap})  # fmt: skip
    result = {"command": "OMP_NUM_THREADS=1 python scripts/torchrun_vs_one.py",
              "seeds": [0, 1, 2], "seconds": seconds, "rows": rows}  # fmt: skip
    path = Path(a.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    for r in rows:
        print(f"{r['method']:<11} {r['region']:<4} {r['metric']}: one {r['one_mean']:.4f} ± "
              f"{r['one_std']:.4f}  two {r['two_mean']:.4f} ± {r['two_std']:.4f}  "
              f"gap {r['relative_gap']:+.1%}")  # fmt: skip
    print(f"written: {path}")


if __name__ == "__main__":
    main()
