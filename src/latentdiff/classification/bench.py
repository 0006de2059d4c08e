"""``latentdiff bench --task classification``: methods x seeds on a long-tailed classification
data set, written to a run directory (config.json, records.json, results.md).

A first version: no resume, no Ray, no report integration yet (docs/ldmlr-plan.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .methods import LDMLRSettings, check_methods, run_classification

#: named data sets of the classification task and their encoder, stage-1 epochs and default IF
CLASS_DATASETS = {
    "mnist-lt": ("cnn", 30, 100.0),
    "digits-lt": ("mlp", 60, 10.0),
}


def load_classification_data(dataset, data, target, imbalance_factor):
    """(LTDataset, encoder, epochs) for a named data set or a class table ``data`` + ``target``."""
    from .loaders import load_class_table, load_digits_lt, load_mnist_lt

    if dataset in (None, "csv") and data is not None and Path(data).is_file():
        if target is None:
            raise ValueError("a classification table needs --target (its class column)")
        return load_class_table(data, target, imbalance_factor=imbalance_factor), "mlp", 60
    if dataset not in CLASS_DATASETS:
        raise ValueError(f"--task classification takes --dataset {' or '.join(CLASS_DATASETS)}"
                         f" or --data FILE --target COLUMN; got dataset {dataset!r}")  # fmt: skip
    encoder, epochs, default_if = CLASS_DATASETS[dataset]
    imb = default_if if imbalance_factor is None else imbalance_factor
    if dataset == "mnist-lt":
        if data is None:
            raise ValueError("mnist-lt needs --data, the folder of the MNIST t10k IDX files")
        return load_mnist_lt(data, imb), encoder, epochs
    if data is not None:
        raise ValueError("--data does not apply to digits-lt (scikit-learn's bundled digits)")
    return load_digits_lt(imb), encoder, epochs


def run_classification_bench(*, dataset, data, target, methods, seeds, out, imbalance_factor=None,
                             overwrite=False) -> list[dict]:  # fmt: skip
    check_methods(methods)  # a bad name (or <base>+ldmlr with an unknown base) refused here
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out} already holds a run (use --overwrite to replace it)")
        shutil.rmtree(out)
    ds, encoder, epochs = load_classification_data(dataset, data, target, imbalance_factor)
    out.mkdir(parents=True, exist_ok=True)
    settings = LDMLRSettings()
    config = {"task": "classification", "dataset": ds.summary(), "methods": list(methods),
              "seeds": list(seeds), "encoder": encoder, "epochs": epochs,
              "ldmlr": settings.__dict__}  # fmt: skip
    (out / "config.json").write_text(json.dumps(config, indent=1, default=str))
    rows = []
    for seed in seeds:
        r, _ = run_classification(ds, methods, seed, encoder=encoder, epochs=epochs,
                                  ldmlr=settings)  # fmt: skip
        rows += r
        (out / "records.json").write_text(json.dumps(rows, indent=1))
    (out / "results.md").write_text(results_table(rows))
    return rows


def results_table(rows: list[dict]) -> str:
    """Accuracy and macro-F1 (%) per method and region, mean over seeds."""
    import numpy as np

    lines = []
    for metric in ("accuracy", "macro_f1"):
        lines += [f"\n{metric} (%), mean over seeds\n", "| method | all | many | medium | few |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for m in dict.fromkeys(r["method"] for r in rows):
            cells = []
            for region in ("all", "many", "medium", "few"):
                v = [r["value"] for r in rows if r["method"] == m and r["region"] == region
                     and r["metric"] == metric and r["value"] is not None]  # fmt: skip
                cells.append(f"{100 * np.mean(v):.1f}" if v else "-")
            lines.append(f"| {m} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"
