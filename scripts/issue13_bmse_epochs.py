"""Balanced MSE epoch by epoch on California Housing (issue 13): the validation MSE on all samples,
the bin-averaged validation MSE (each evaluation bin's MSE, averaged over bins: the error a
label-balanced validation set would give) and the noise sigma after every epoch of stage 1, for
one method and its options, no early stopping. JSON to stdout.

    python scripts/issue13_bmse_epochs.py DATA_CSV METHOD [KEY=VALUE ...] [--epochs N] [--seed S]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from latentdiff.data.registry import load_dataset
from latentdiff.encoders import make_encoder
from latentdiff.hooks import TrainHook
from latentdiff.methods import get_method
from latentdiff.pipeline import fit_vanilla
from latentdiff.settings import TrainConfig
from latentdiff.training import predict


class EpochRecorder(TrainHook):
    """Records validation errors and the other hooks' diagnostics after every epoch."""

    name = "recorder"

    def __init__(self, dataset, encoder, others):
        self.dataset, self.encoder, self.others, self.rows = dataset, encoder, others, []
        self.val_inputs = None

    def end_epoch(self, model, train_inputs, y, epoch):
        val = self.dataset.val
        if self.val_inputs is None:
            self.val_inputs = self.encoder.inputs(val)
        pred = predict(model, self.val_inputs)
        err = (pred - val.y) ** 2
        b = self.dataset.eval_bins.assign(val.y)
        per_bin = [float(err[b == k].mean()) for k in np.unique(b)]
        row = {
            "epoch": epoch,
            "val_mse": float(err.mean()),
            "val_mse_bins": float(np.mean(per_bin)),
        }
        for h in self.others:
            row.update({f"{h.name}_{k}": v for k, v in h.info().items()})
        self.rows.append(row)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("method")
    ap.add_argument("options", nargs="*")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    opts = {}
    for kv in args.options:
        k, v = kv.split("=", 1)
        try:
            opts[k] = json.loads(v)
        except json.JSONDecodeError:
            opts[k] = v
    ds = load_dataset("california-housing", args.data)
    method = get_method(args.method, {args.method: opts} if opts else None)

    class Ctx:
        dataset = ds

    hooks = method.make_hooks(Ctx)
    encoder = make_encoder("mlp")
    rec = EpochRecorder(ds, encoder, hooks)
    train = TrainConfig(epochs=args.epochs, patience=None)
    fit = fit_vanilla(ds, encoder, train, args.seed, False, hooks=[*hooks, rec])
    record = {"method": args.method, "options": opts, "seed": args.seed}
    record.update(best_epoch=fit.result.best_epoch, epochs=rec.rows)
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
