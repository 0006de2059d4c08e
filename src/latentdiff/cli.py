"""Command line: ``latentdiff demo | run | bench``. Argument parsing only; the work is in
``latentdiff.bench``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .bench import BenchConfig, read_run_config, run_bench
from .data.registry import DATASETS
from .encoders import ENCODERS
from .methods import GRIDS, METHODS
from .training import HeadConfig, TrainConfig


def _positive_int(s: str) -> int:
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {s}")
    return v


def _fraction(s: str) -> float:
    v = float(s)
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {s}")
    return v


def _nonneg_float(s: str) -> float:
    v = float(s)
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {s}")
    return v


def _int_list(s: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in s.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {s!r}") from None


def _key_value(s: str) -> tuple[str, object]:
    """KEY=VALUE with VALUE read as JSON when it parses (numbers, true/false, lists), else text."""
    if "=" not in s:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {s!r}")
    key, value = s.split("=", 1)
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def _add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument(
        "--dataset",
        choices=DATASETS,
        help="named data set (default: csv when --data is a file, else diamonds)",
    )
    g.add_argument("--data", help="path: a CSV/parquet file, the STS-B-DIR folder, or an age CSV")
    g.add_argument("--target", help="target column of a CSV / parquet file")
    g.add_argument("--image-root", help="folder the image paths of an age CSV are relative to")
    g.add_argument(
        "--regions",
        default=None,
        choices=("dir", "latentdiff", "official"),
        help="shot thresholds: dir (many>100, few<20), latentdiff (70/30), official "
        "(STS-B-DIR lists; its default)",
    )
    g.add_argument("--max-train", type=_positive_int, help="subsample the training split")
    g.add_argument("--eval-bins", type=_positive_int, help="number of evaluation bins (tables)")
    m = p.add_argument_group("model")
    m.add_argument("--encoder", choices=list(ENCODERS), help="encoder (default per modality)")
    m.add_argument(
        "--encoder-option",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="encoder keyword, repeatable (e.g. dropout=0.2, hidden_size=1500)",
    )
    m.add_argument("--epochs", type=_positive_int, help="stage-1 epochs (default per data set)")
    m.add_argument("--lr", type=float, help="stage-1 learning rate")
    m.add_argument("--batch-size", type=_positive_int, help="stage-1 batch size")
    ld = p.add_argument_group("LatentDiff (Table 6 defaults)")
    ld.add_argument("--n-bins", type=_positive_int, default=20, help="K, generation bins")
    ld.add_argument("--ratio", type=_nonneg_float, default=0.2, help="synthetic / real count")
    ld.add_argument("--priority-weight", type=_fraction, default=0.7, help="lambda (eq. 9)")
    ld.add_argument("--quantile", type=_fraction, default=0.95, help="gate percentile q")
    ld.add_argument("--n-min", type=_positive_int, default=5, help="gate n_min")
    ld.add_argument("--small-bin-rule", choices=("pool", "accept", "reject"), default="pool")
    ld.add_argument("--no-gate", action="store_true", help="keep every synthetic feature")
    ld.add_argument("--timesteps", type=_positive_int, default=50, help="T")
    ld.add_argument(
        "--diffusion-steps",
        type=_positive_int,
        default=2000,
        help="optimiser steps of the diffusion model",
    )
    ld.add_argument("--mix-schedule", choices=("natural", "constant", "linear"), default="natural")
    ld.add_argument("--mix-ratio", type=_fraction, default=0.2)
    ld.add_argument("--synthetic-weight", type=_nonneg_float, default=1.0)
    ld.add_argument(
        "--checkpoint-every",
        type=_positive_int,
        default=250,
        help="generator training steps between checkpoints (for --resume)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _add_run_dir(p: argparse.ArgumentParser, default_out: str | None) -> None:
    g = p.add_argument_group("run directory")
    where = g.add_mutually_exclusive_group(required=default_out is None)
    where.add_argument(
        "--out", default=default_out, help="new run directory" + (
            f" (default {default_out}, replaced on each demo)" if default_out else ""
        )
    )  # fmt: skip
    where.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the interrupted run in DIR with its saved configuration: finished "
        "methods are kept, trained networks loaded, network training continues from its last "
        "epoch and diffusion training from its last checkpoint",
    )
    if default_out is None:
        g.add_argument("--overwrite", action="store_true", help="replace a run already in --out")


def _config(a: argparse.Namespace, methods, seeds) -> BenchConfig:
    dataset = a.dataset or ("csv" if a.data and Path(a.data).is_file() else "diamonds")
    # absolute paths in config.json, so that --resume works from any working directory
    data = str(Path(a.data).resolve()) if a.data else None
    image_root = str(Path(a.image_root).resolve()) if a.image_root else None
    if dataset == "csv" and not a.data:
        raise SystemExit("error: a CSV data set needs --data FILE and --target COLUMN")
    regions = a.regions or ("official" if dataset == "stsb-dir" else "dir")
    dataset_kwargs = {}
    if a.max_train:
        dataset_kwargs["max_train"] = a.max_train
    if a.eval_bins:
        dataset_kwargs["eval_n_bins"] = a.eval_bins
    cfg = BenchConfig(
        dataset=dataset,
        data=data,
        target=a.target,
        image_root=image_root,
        methods=tuple(methods),
        seeds=tuple(seeds),
        regions=regions,
        dataset_kwargs=dataset_kwargs,
        encoder=a.encoder,
        encoder_kwargs=dict(a.encoder_option),
        sampler={
            "n_bins": a.n_bins,
            "ratio": a.ratio,
            "priority_weight": a.priority_weight,
            "quantile": a.quantile,
            "n_min": a.n_min,
            "small_bin_rule": a.small_bin_rule,
            "gate": not a.no_gate,
            "diffusion": {"timesteps": a.timesteps, "n_steps": a.diffusion_steps},
            "checkpoint_every": a.checkpoint_every,
            "progress": not a.no_progress,
        },
        head=HeadConfig(
            mix_schedule=a.mix_schedule, mix_ratio=a.mix_ratio, synthetic_weight=a.synthetic_weight
        ),
        progress=not a.no_progress,
    )
    overrides = {
        k: v for k, v in (("epochs", a.epochs), ("lr", a.lr), ("batch_size", a.batch_size)) if v
    }
    if overrides:
        cfg.train = TrainConfig(**{**cfg.train.__dict__, **overrides})
    return cfg


def _execute(cfg: BenchConfig, out: str, resume: bool = False, overwrite: bool = False) -> int:
    run_bench(cfg, out, resume=resume, overwrite=overwrite)
    print((Path(out) / "results.md").read_text())
    print(f"run directory: {Path(out).resolve()}")
    runs = json.loads((Path(out) / "runs.json").read_text())
    failed = sorted({r["method"] for r in runs if "error" in r})
    if failed:
        print(f"latentdiff: these methods failed (see runs.json): {', '.join(failed)}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _resumed_config(sub: argparse.ArgumentParser, a: argparse.Namespace) -> BenchConfig:
    """The configuration saved in ``--resume DIR``; other options may not change it."""
    given = [
        "--" + k.replace("_", "-")
        for k, v in vars(a).items()
        if k not in ("command", "resume", "no_progress", "out") and v != sub.get_default(k)
    ]
    if given:
        raise ValueError(
            f"--resume continues a run with its saved configuration; drop {', '.join(given)} "
            f"(only --no-progress may be given)"
        )
    cfg = BenchConfig.from_dict(read_run_config(a.resume)["bench"])
    if a.no_progress:
        cfg.progress = False
        cfg.sampler = {**cfg.sampler, "progress": False}
    return cfg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="latentdiff", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_demo = sub.add_parser("demo", help="vanilla vs LatentDiff on the embedded diamonds data")
    _add_run_dir(p_demo, "runs/demo")
    p_demo.add_argument("--seed", type=int, default=0)
    _add_common(p_demo)

    p_run = sub.add_parser("run", help="one seed of vanilla vs LatentDiff on a data set")
    _add_run_dir(p_run, None)
    p_run.add_argument("--seed", type=int, default=0)
    _add_common(p_run)

    p_bench = sub.add_parser("bench", help="methods x seeds, results.json / results.md")
    _add_run_dir(p_bench, None)
    p_bench.add_argument(
        "--methods",
        default=None,
        help="comma-separated methods, '+' combines (default vanilla,latentdiff); known: "
        + ", ".join(METHODS),
    )
    p_bench.add_argument(
        "--grid",
        choices=list(GRIDS),
        help="a named grid of methods: table1 = every method and combination of Table 1",
    )
    p_bench.add_argument(
        "--method-option",
        type=_key_value,
        action="append",
        default=[],
        metavar="METHOD.KEY=VALUE",
        help="a method's keyword option, repeatable (e.g. lds.kernel=laplace, focal-r.beta=5)",
    )
    p_bench.add_argument("--seeds", type=_int_list, default=(0, 1, 2))
    _add_common(p_bench)

    a = parser.parse_args(argv)
    subparser = {"demo": p_demo, "run": p_run, "bench": p_bench}[a.command]
    try:
        if a.resume:
            return _execute(_resumed_config(subparser, a), a.resume, resume=True)
        if a.command in ("demo", "run"):
            if a.command == "demo" and a.dataset is None and a.data is None:
                a.dataset = "diamonds"
            cfg = _config(a, ("vanilla", "latentdiff"), (a.seed,))
            # the demo replaces its own previous run; run refuses to, unless told
            return _execute(cfg, a.out, overwrite=a.command == "demo" or a.overwrite)
        if a.grid and a.methods:
            raise ValueError("give --grid or --methods, not both")
        if a.grid:
            methods = list(GRIDS[a.grid])
        else:
            methods = [m.strip() for m in (a.methods or "vanilla,latentdiff").split(",")]
            methods = [m for m in methods if m]
        cfg = _config(a, methods, a.seeds)
        options: dict[str, dict] = {}
        for key, value in a.method_option:
            if "." not in key:
                raise ValueError(f"--method-option needs METHOD.KEY=VALUE, got {key!r}")
            method, opt = key.split(".", 1)
            options.setdefault(method.strip().lower(), {})[opt.strip()] = value
        if options:
            cfg = BenchConfig(**{**cfg.__dict__, "method_options": options})
        return _execute(cfg, a.out, overwrite=a.overwrite)
    except (
        ValueError,
        KeyError,
        FileNotFoundError,
        FileExistsError,
        IsADirectoryError,
        NotADirectoryError,
    ) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"latentdiff: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        out = a.resume or a.out
        print(f"\nlatentdiff: interrupted; what was finished is kept in {out}: continue with "
              f"latentdiff {a.command} --resume {out}", file=sys.stderr)  # fmt: skip
        return 130


if __name__ == "__main__":
    sys.exit(main())
