"""Command line: ``latentdiff demo | run | bench | report``. Argument parsing only: every option
that sets a setting is one row of :data:`OPTIONS`, the settings check their own values
(:mod:`latentdiff.settings`) before any data is read, and the work is in
:func:`latentdiff.bench.run_bench` and :mod:`latentdiff.reporting`."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from .data.registry import DATASETS
from .params import Interval, Optional, SettingError
from .rundir import IncompleteRun
from .settings import (
    PRESETS,
    BenchConfig,
    DataConfig,
    DiffusionConfig,
    HeadConfig,
    PoGDiffConfig,
    SamplerConfig,
    TrainConfig,
)

#: the settings class behind each prefix of a setting's path
_SECTIONS = {
    "data": DataConfig,
    "train": TrainConfig,
    "sampler": SamplerConfig,
    "sampler.diffusion": DiffusionConfig,
    "sampler.pogdiff": PoGDiffConfig,
    "head": HeadConfig,
}

#: (option, setting path, help group): every option that sets exactly one setting
OPTIONS: list[tuple[str, str, str]] = [
    ("--data", "data.data", "data"),
    ("--target", "data.target", "data"),
    ("--image-root", "data.image_root", "data"),
    ("--regions", "data.regions", "data"),
    ("--max-train", "data.max_train", "data"),
    ("--eval-bins", "data.eval_bins", "data"),
    ("--missing", "data.missing", "data"),
    ("--zero-shot", "data.zero_shot", "data"),
    ("--epochs", "train.epochs", "model"),
    ("--lr", "train.lr", "model"),
    ("--batch-size", "train.batch_size", "model"),
    ("--grad-clip", "train.grad_clip", "model"),
    ("--n-bins", "sampler.n_bins", "LatentDiff"),
    ("--ratio", "sampler.ratio", "LatentDiff"),
    ("--priority-weight", "sampler.priority_weight", "LatentDiff"),
    ("--quantile", "sampler.quantile", "LatentDiff"),
    ("--n-min", "sampler.n_min", "LatentDiff"),
    ("--small-bin-rule", "sampler.small_bin_rule", "LatentDiff"),
    ("--empty-bins", "sampler.empty_bins", "LatentDiff"),
    ("--checkpoint-every", "sampler.checkpoint_every", "LatentDiff"),
    ("--generator", "sampler.generator", "LatentDiff"),
    ("--timesteps", "sampler.diffusion.timesteps", "LatentDiff"),
    ("--diffusion-steps", "sampler.diffusion.n_steps", "LatentDiff"),
    ("--sampler", "sampler.diffusion.scheduler", "LatentDiff"),
    ("--sampling-steps", "sampler.diffusion.sampling_steps", "LatentDiff"),
    ("--generator-from", "sampler.generator_from", "LatentDiff"),
    ("--fine-tune", "sampler.fine_tune", "LatentDiff"),
    ("--stream-dir", "sampler.stream_dir", "LatentDiff"),
    ("--stream-chunk", "sampler.stream_chunk", "LatentDiff"),
    ("--mix-schedule", "head.mix_schedule", "head retraining"),
    ("--mix-ratio", "head.mix_ratio", "head retraining"),
    ("--synthetic-weight", "head.synthetic_weight", "head retraining"),
]
#: options whose value is a repeated KEY=VALUE into a section of the settings
MAPPINGS = {
    "--encoder-option": "encoder_options",
    "--diffusion-option": "sampler.diffusion",
    "--gan-option": "sampler.gan",
    "--gaussian-option": "sampler.gaussian",
    "--interp-option": "sampler.interp",
    "--pogdiff-option": "sampler.pogdiff",
    "--method-option": "method_options",
}
_FLAG_OF = (
    {path: flag for flag, path, _ in OPTIONS}
    | {
        "sampler.gate": "--no-gate",
        "data.dataset": "--dataset",
        "encoder": "--encoder",
        "seeds": "--seeds",
        "methods": "--methods",
        "device": "--device",
        "analysis_rows": "--analysis-rows",
    }
    | {path: flag for flag, path in MAPPINGS.items()}
)


def _setting(path: str) -> tuple[type, str]:
    """Settings class and field of a dotted setting path."""
    section, _, name = path.rpartition(".")
    return _SECTIONS[section], name


def _arg_type(path: str):
    """int, float or str: what the setting's constraint takes."""
    cls, name = _setting(path)
    c = cls.__dataclass_fields__[name].metadata["constraint"]
    c = c.inner if isinstance(c, Optional) else c
    return c.kind if isinstance(c, Interval) else str


def _help(path: str) -> str:
    cls, name = _setting(path)
    for field, default, allowed, doc in cls.describe():
        if field == name:
            return f"{doc}; {allowed} (default {default!r})" if doc else allowed
    raise KeyError(path)


def _int_list(s: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in s.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {s!r}") from None


def _method_list(text: str) -> list[str]:
    """Comma-separated methods; commas inside a variant's brackets (``latentdiff[ratio=0.4,
    gate=false]``) belong to the variant."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [m.strip() for m in [*out, cur] if m.strip()]


def _key_value(s: str) -> tuple[str, object]:
    """KEY=VALUE with VALUE read as JSON when it parses (numbers, true/false, lists), else text."""
    if "=" not in s:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {s!r}")
    key, value = s.split("=", 1)
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def _add_common(p: argparse.ArgumentParser, data_flags: tuple[str, ...] | None = None) -> None:
    """The setting options; ``data_flags``: only these data options, no --dataset or --encoder
    (``fit``: a table and the tabular encoder)."""
    groups = {name: p.add_argument_group(name) for name in
              ("data", "model", "LatentDiff", "head retraining")}  # fmt: skip
    if data_flags is None:
        groups["data"].add_argument(
            "--dataset", help=f"named data set, one of {', '.join(DATASETS)} (default: csv when "
            "--data is a file, else diamonds); --task classification: mnist-lt (--data: the "
            "MNIST t10k folder), digits-lt (its default) or csv",
        )  # fmt: skip
        groups["model"].add_argument("--encoder", help="encoder (default per modality)")
    for flag, path, group in OPTIONS:
        if data_flags is None or group != "data" or flag in data_flags:
            required = data_flags is not None and flag in ("--data", "--target")
            groups[group].add_argument(flag, type=_arg_type(path), default=None,
                                       required=required, help=_help(path))  # fmt: skip
    groups["LatentDiff"].add_argument(
        "--no-gate", action="store_true", help="keep every synthetic feature (no eq. 11 gate)"
    )
    helps = {
        "--encoder-option": "encoder keyword, repeatable (e.g. dropout=0.2, hidden_size=1500)",
        "--diffusion-option": "any DiffusionConfig setting, repeatable (e.g. hidden_dim=256)",
        "--gan-option": "any GANConfig setting, repeatable (e.g. n_steps=2000)",
        "--gaussian-option": "any GaussianConfig setting, repeatable (e.g. min_rows=20)",
        "--interp-option": "any InterpConfig setting, repeatable (e.g. k_neighbors=null)",
        "--pogdiff-option": "any PoGDiffConfig setting, repeatable (e.g. k_neighbours=20, a3=2)",
    }
    for flag, text in helps.items():
        group = groups["model" if flag == "--encoder-option" else "LatentDiff"]
        group.add_argument(flag, type=_key_value, action="append", default=[],
                           metavar="KEY=VALUE", help=text)  # fmt: skip
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


#: options that choose where the pairs run, not what they compute (allowed with --resume)
_EXECUTION = ("executor", "address")


def _add_executor(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("execution (not part of the results)")
    g.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: one (method, seed) after another here; ray: the pairs as Ray "
                   "tasks (pip install 'latentdiff[ray]')")  # fmt: skip
    g.add_argument("--address", default=None, metavar="ADDR",
                   help="with --executor ray: an existing Ray cluster (auto, HOST:6379, "
                   "ray://HOST:10001); default: a local Ray started for the run")  # fmt: skip


def _put(d: dict, path: str, value) -> None:
    *sections, name = path.split(".")
    for s in sections:
        d = d.setdefault(s, {})
    d[name] = value


def _config(a: argparse.Namespace, methods, seeds) -> BenchConfig:
    """The benchmark's settings from the options given (the others keep their defaults)."""
    given: dict = {}
    dataset = a.dataset or ("csv" if a.data else "diamonds")
    _put(given, "data.dataset", dataset)
    for flag, path, _ in OPTIONS:
        value = getattr(a, flag[2:].replace("-", "_"))
        if value is not None:
            _put(given, path, value)
            a.flags_given.append((flag, path))
    for key in ("data", "image_root"):  # absolute, so that --resume works from anywhere
        if given["data"].get(key):
            given["data"][key] = str(Path(given["data"][key]).resolve())
    sampler = given.get("sampler", {})
    if sampler.get("generator_from"):
        sampler["generator_from"] = str(Path(sampler["generator_from"]).resolve())
    if a.no_gate:
        _put(given, "sampler.gate", False)
        a.flags_given.append(("--no-gate", "sampler.gate"))
    for flag, path in MAPPINGS.items():
        for key, value in getattr(a, flag[2:].replace("-", "_"), None) or []:
            if flag == "--method-option":
                if "." not in key:
                    raise ValueError(f"--method-option needs METHOD.KEY=VALUE, got {key!r}")
                method, key = key.split(".", 1)
                key = f"{method.strip().lower()}.{key.strip()}"
            _put(given, f"{path}.{key}", value)
            a.flags_given.append((flag, f"{path}.{key}"))
    if "train" in given:  # options change the data set's preset, not the generic defaults
        preset = PRESETS.get(dataset, PRESETS["csv"]).train.to_dict()
        given["train"] = {**preset, **given["train"]}
    if a.encoder:
        given["encoder"] = a.encoder
    given.update(methods=list(methods), seeds=list(seeds), progress=not a.no_progress)
    if getattr(a, "device", None) is not None:
        given["device"] = a.device
    if getattr(a, "analysis_rows", None) is not None:
        given["analysis_rows"] = a.analysis_rows
        a.flags_given.append(("--analysis-rows", "analysis_rows"))
    return BenchConfig.from_dict(given)


def _message(e: Exception, flags_given: list[tuple[str, str]]) -> str:
    """The error's own words, with the option that set a refused setting in front: the one
    that sets it, or the ones given that set something inside a refused part."""
    msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    m = re.match(r"(?:unknown setting )?([\w.]+)", msg)
    if not isinstance(e, SettingError) or not m:
        return msg
    path = m.group(1)
    given = [f for f, p in flags_given if p == path]
    setting = [(p, f) for p, f in _FLAG_OF.items() if path == p or path.startswith(p + ".")]
    inside = list(dict.fromkeys(f for f, p in flags_given if p.startswith(path + ".")))
    if given or setting:  # the option given for it, else the most specific one that sets it
        return f"{given[0] if given else max(setting, key=lambda t: len(t[0]))[1]}: {msg}"
    return f"{', '.join(inside)}: {msg}" if inside else msg


def _execute(cfg: BenchConfig, out: str, resume: bool = False, overwrite: bool = False,
             a: argparse.Namespace | None = None) -> int:  # fmt: skip
    from . import distributed
    from .bench import run_bench  # torch, diffusers, the data loaders: after the settings

    executor = {"executor": a.executor, "address": a.address} if a is not None else {}
    try:
        run_bench(cfg, out, resume=resume, overwrite=overwrite, **executor)
    except ValueError as e:  # a table's text target (target_values) in a regression run
        if cfg.task == "regression" and "is not numeric" in str(e):
            raise ValueError(f"{e} (class labels: --task classification)") from None
        raise
    if distributed.launched_rank() != 0:  # under torchrun rank 0 reports
        return 0
    print((Path(out) / "results.md").read_text())
    print(f"run directory: {Path(out).resolve()}")
    if (Path(out) / "index.html").is_file():
        print(f"report with figures: {(Path(out) / 'index.html').resolve()}")
    runs = json.loads((Path(out) / "runs.json").read_text())
    failed = sorted({r["method"] for r in runs if "error" in r})
    if failed:
        print(f"latentdiff: these methods failed (see runs.json): {', '.join(failed)}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _resumed_config(sub: argparse.ArgumentParser, a: argparse.Namespace) -> BenchConfig:
    """The configuration saved in ``--resume DIR``; other options may not change it."""
    from .rundir import saved_config

    given = [
        "--" + k.replace("_", "-")
        for k, v in vars(a).items()
        if k not in ("command", "resume", "no_progress", "out", "flags_given", "task", *_EXECUTION)
        and v != sub.get_default(k)
    ]
    if given:
        raise ValueError(
            f"--resume continues a run with its saved configuration; drop {', '.join(given)} "
            f"(only --no-progress, --executor and --address may be given)"
        )
    cfg = saved_config(a.resume)
    task = getattr(a, "task", cfg.task)
    if task != sub.get_default("task") and task != cfg.task:
        raise ValueError(f"--task {task}: {a.resume} holds a {cfg.task} run")
    return cfg.replace(progress=False) if a.no_progress else cfg


def _report(a: argparse.Namespace) -> int:
    from .io import atomic_write_text
    from .reporting.document import benchmarks_document

    if not a.grid and not a.runs:
        raise ValueError("give at least one run directory (DIR or --grid DIR)")
    if a.out is not None:
        a.output = _report_page(a)
        if a.output is None:
            return 0
    if a.html:  # each run directory's plots/ and index.html, (re)drawn from its files
        from .reporting.html import write_report

        for d in [*a.grid, *a.runs]:
            if not (Path(d) / "config.json").is_file():
                raise FileNotFoundError(f"{d} is not a run directory (it has no config.json)")
            for problem in write_report(d):
                print(f"latentdiff: warning: {d}: {problem}", file=sys.stderr)
            print(Path(d) / "index.html")
        if not a.output:
            return 0
    text = benchmarks_document(a.grid, a.runs, a.notes)
    if a.output:
        atomic_write_text(a.output, text)
    else:
        print(text)
    return 0


def _report_page(a: argparse.Namespace) -> str | None:
    """``report ... --out FILE``: FILE.html (or .htm) is the one self-contained page of every run
    directory given (:mod:`latentdiff.reporting.page`); FILE.md is the markdown document, as
    ``--output FILE.md``. Returns the markdown path still to write, or None."""
    suffix = Path(a.out).suffix.lower()
    if suffix == ".md":
        if a.output is not None:
            raise ValueError("--out FILE.md writes the markdown document, as --output does: "
                             "give one of them")  # fmt: skip
        return a.out
    if suffix not in (".html", ".htm"):
        raise ValueError(f"--out {a.out}: the name must end in .html (the page) or .md (the "
                         "markdown document)")  # fmt: skip
    from .io import atomic_write_text
    from .reporting.page import check_run_dirs, report_page

    dirs = [*a.grid, *a.runs]
    check_run_dirs(dirs)
    log = (lambda s: None) if a.quiet else (lambda s: print(f"latentdiff report: {s}",
                                                           file=sys.stderr))  # fmt: skip
    page, problems = report_page(dirs, tsne=not a.no_tsne, log=log)
    for problem in problems:
        print(f"latentdiff: warning: {problem}", file=sys.stderr)
    atomic_write_text(a.out, page)
    print(Path(a.out))
    return a.output


def _add_report_page_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", metavar="FILE",
        help="FILE.html: one self-contained page (results, per-bin figures, feature-quality "
        "analysis, side by side for several DIRs); FILE.md: the markdown document",
    )  # fmt: skip
    p.add_argument("--no-tsne", action="store_true",
                   help="--out FILE.html: skip the t-SNE figures (the slow part)")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(prog="latentdiff", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    subs = {}
    for name, text, default_out in (
        (
            "demo",
            "vanilla vs LatentDiff and the tuned LatentDiff on the embedded diamonds data",
            "runs/demo",
        ),
        ("run", "one seed of vanilla vs LatentDiff on a data set", None),
        ("bench", "methods x seeds, results.json / results.md", None),
    ):
        p = subs[name] = sub.add_parser(name, help=text)
        _add_run_dir(p, default_out)
        _add_executor(p)
        if name == "bench":
            from .methods import GRIDS, METHODS  # for the help text

            known = ", ".join(METHODS)
            p.add_argument("--methods", help="comma-separated methods, '+' combines (default "
                           f"vanilla,latentdiff; latentdiff[ratio=0.4,gate=false]: a variant "
                           f"with its own settings); known: {known}")  # fmt: skip
            p.add_argument(
                "--grid",
                choices=list(GRIDS),
                help="a named grid (table1: Table 1's methods; "
                "table2: seed 000's Table 2 ablations as latentdiff[KEY=VALUE] variants)",
            )
            p.add_argument(
                "--method-option",
                type=_key_value,
                action="append",
                default=[],
                metavar="METHOD.KEY=VALUE",
                help="a method's option, repeatable (e.g. lds.kernel=laplace)",
            )
            p.add_argument("--seeds", type=_int_list, default=(0, 1, 2))
            p.add_argument("--task", choices=("regression", "classification"),
                           default="regression", help="classification: long-tailed classes "
                           "(LDMLR, seed 002; methods ce, label-shift, ldmlr, ...)")  # fmt: skip
            p.add_argument(
                "--imbalance-factor", type=float, default=None,
                help="--task classification: n_max / n_min of the exponential training "
                "profile (mnist-lt 100, digits-lt 10, a table: as read)",
            )  # fmt: skip
            p.add_argument(
                "--ldmlr-option", type=_key_value, action="append", default=[],
                metavar="KEY=VALUE", help="--task classification: any LDMLRConfig setting, "
                "repeatable (e.g. target=few, ratio=0.4, gamma=0.05, lr=5e-4, epochs=20, "
                "diffusion.n_steps=1000)",
            )  # fmt: skip
        else:
            p.add_argument("--seed", type=int, default=0)
        p.add_argument(
            "--device",
            help="where every stage runs: cpu (default), cuda or cuda:N; under torchrun each "
            "process takes cuda:LOCAL_RANK (docs/scaling.md)",
        )
        p.add_argument(
            "--analysis-rows", type=int, default=None, metavar="N",
            help="rows per side of the real / synthetic feature sample each LatentDiff-family "
            "method keeps for `latentdiff analyse` (default 2000; 0: none)",
        )  # fmt: skip
        _add_common(p)
    _add_model_commands(sub, subs)
    _add_speed_command(sub, subs)
    _add_analyse_command(sub, subs)
    p = subs["report"] = sub.add_parser(
        "report", help="docs/benchmarks.md, or one HTML page (--out FILE.html), of run directories"
    )
    p.add_argument("runs", nargs="*", metavar="DIR", help="runs reported in detail")
    p.add_argument("--grid", action="append", default=[], metavar="DIR",
                   help="a --grid table1 run, reported Table-1-shaped (repeatable)")  # fmt: skip
    p.add_argument("--notes", help="a markdown file appended to the document")
    p.add_argument("--output", help="write the document here instead of to the terminal")
    p.add_argument(
        "--html",
        action="store_true",
        help="(re)write each run directory's plots/ "
        "and index.html instead of the document (and the document too with --output)",
    )
    _add_report_page_options(p)
    return parser, subs


# --- a model for new rows: fit and predict -------------------------------------------------------
#: the data options of ``fit`` (a table, its target; the other data options do not apply)
_FIT_DATA = ("--data", "--target", "--eval-bins", "--missing")
#: ``fit``'s method unless --methods says otherwise (LatentDiffRegressor's default; not imported
#: from there, which would load scikit-learn before the options are read)
FIT_METHOD = "latentdiff-tuned"


def _add_model_commands(sub, subs: dict) -> None:
    p = subs["fit"] = sub.add_parser("fit", help="train one method on a table, save the model")
    p.add_argument("--out", required=True, metavar="MODEL", help="folder the model is saved in")
    p.add_argument("--overwrite", action="store_true", help="replace a model saved in --out")
    p.add_argument("--methods", metavar="NAME", default=None,
                   help=f"one method ('+' combines; default {FIT_METHOD}, with --task "
                   f"classification {CLASS_FIT_METHOD})")  # fmt: skip
    p.add_argument("--method-option", type=_key_value, action="append", default=[],
                   metavar="METHOD.KEY=VALUE", help="a method's option, repeatable")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--id-column", metavar="COL", help="a column that is not a feature (row ids)")
    p.add_argument("--device", help="where fitting runs: cpu (default), cuda or cuda:N")
    _add_fit_task(p)
    _add_common(p, data_flags=_FIT_DATA)
    # what _config reads that fit does not offer: a table (csv), its default encoder
    p.set_defaults(dataset="csv", encoder=None, image_root=None, regions=None, max_train=None,
                   zero_shot=None)  # fmt: skip
    p = subs["predict"] = sub.add_parser("predict", help="predict new rows with a saved model")
    p.add_argument("model", metavar="MODEL", help="a folder written by latentdiff fit")
    p.add_argument("--data", required=True, help="CSV or parquet file of the rows to predict")
    p.add_argument("--out", required=True, help="CSV file of the predictions (column prediction)")
    p.add_argument("--id-column", metavar="COL", help="carry this column through, first")


def _fit(a: argparse.Namespace) -> int:
    """Train, save, print the validation table. Settings, --out and the table are checked
    before training."""
    import pandas as pd

    from .data.tabular import read_table, target_values
    from .estimator import LatentDiffRegressor

    if a.task == "classification":
        return _fit_classification(a)
    if a.ldmlr_option:
        raise ValueError("--ldmlr-option is a classification option: add --task classification")
    a.methods = a.methods or FIT_METHOD
    methods = _method_list(a.methods)
    if len(methods) != 1:
        raise ValueError(f"--methods: fit trains one method, got {a.methods!r} "
                         "(latentdiff-tuned chooses its settings on validation)")  # fmt: skip
    cfg = _config(a, methods, (a.seed,))
    out = _model_out(a)
    df = read_table(cfg.data.data)
    try:
        y = target_values(df, cfg.data.target, source=cfg.data.data)
    except ValueError as e:
        if "is not numeric" in str(e):  # class labels in a regression fit
            raise ValueError(f"{e} (class labels: --task classification)") from None
        raise
    drop = [cfg.data.target]
    if a.id_column:
        if a.id_column not in df.columns:
            raise KeyError(f"--id-column {a.id_column!r} is not a column of {cfg.data.data}")
        drop.append(a.id_column)
    est = LatentDiffRegressor(
        method=methods[0],
        method_options=cfg.method_options or None,
        train=cfg.train,
        sampler=cfg.sampler,
        head=cfg.head,
        encoder_options=cfg.encoder_options or None,
        eval_bins=cfg.data.eval_bins,
        missing=cfg.data.missing or "impute",
        random_state=a.seed,
        progress=cfg.progress,
        device=cfg.device,
    )
    est.fit(df.drop(columns=drop), pd.Series(y, name=cfg.data.target))
    est.save(out)
    print(est.validation_report())
    for c, n in est.imputed_.items():
        print(f"imputed in {c!r}: {n['train']} training, {n['val']} validation value(s)")
    print(f"model saved in {out.resolve()}")
    return 0


def _predict(a: argparse.Namespace) -> int:
    """Predict every row of --data, in order; a column the model does not know, a missing one,
    a wrong type or an unseen category is refused naming the column."""
    import pandas as pd

    from .data.tabular import read_table
    from .estimator import load_model
    from .io import atomic_write_text

    if Path(a.out).is_dir():
        raise IsADirectoryError(f"--out {a.out} is a folder; give a CSV file name")
    est = load_model(a.model)  # a regressor or a classifier, as the saved model.json says
    df = read_table(a.data)
    if a.id_column and a.id_column not in df.columns:
        raise KeyError(f"--id-column {a.id_column!r} is not a column of {a.data}")
    features = [c["name"] for c in est.columns_]
    ignored = {est.target_, a.id_column} - {None}
    extra = [c for c in df.columns if c not in features and c not in ignored]
    if extra:
        raise ValueError(f"column {extra[0]!r} of {a.data} is not a feature of the model "
                         "(drop it, or name it with --id-column)")  # fmt: skip
    rows = df[[c for c in df.columns if c in features]]
    if hasattr(est, "predict_proba"):  # a classifier: the class and each class's probability
        table = _class_predictions(est, rows)
    else:
        table = pd.DataFrame({"prediction": est.predict(rows)})
    if a.id_column:
        table.insert(0, a.id_column, df[a.id_column].to_numpy())
    atomic_write_text(a.out, table.to_csv(index=False))
    print(f"{len(table)} predictions written to {Path(a.out).resolve()}")
    return 0


def _model_out(a: argparse.Namespace) -> Path:
    """``--out`` of ``fit``: a new or empty folder, or one holding a model and --overwrite."""
    from .estimator import MODEL_JSON

    out = Path(a.out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file; a model is saved into a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MODEL_JSON).is_file():
            raise FileExistsError(f"--out {out} is a folder that holds other files than a model")
        if not a.overwrite:
            raise FileExistsError(f"--out {out} holds a saved model; --overwrite replaces it")
    return out


# --- fit / predict for a classifier (LDMLR, seed 002) --------------------------------------------
#: ``fit --task classification``'s method unless --methods says otherwise
CLASS_FIT_METHOD = "ldmlr"
#: the fit options that apply to a classifier, and the classifier parameter or diffusion setting
#: each sets; any other setting option is refused under --task classification
_CLASS_FIT_OPTIONS = {
    "--epochs": "epochs",
    "--lr": "lr",
    "--batch-size": "batch_size",
    "--ratio": "ratio",
    "--missing": "missing",
    "--timesteps": "diffusion.timesteps",
    "--diffusion-steps": "diffusion.n_steps",
    "--sampler": "diffusion.scheduler",
    "--sampling-steps": "diffusion.sampling_steps",
}
#: ``--encoder-option`` keys a classifier takes
_CLASS_ENCODER_KEYS = ("feature_dim", "dropout")
#: ``--ldmlr-option`` keys (bench's LDMLR setting names) and the classifier parameter of each
_CLASS_LDMLR_KEYS = {
    "target": "target",
    "ratio": "ratio",
    "gamma": "gamma",
    "lr": "fine_tune_lr",
    "epochs": "fine_tune_epochs",
}


def _add_fit_task(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("task")
    g.add_argument("--task", choices=("regression", "classification"), default="regression",
                   help="classification: the target column holds classes (integers or strings) "
                   "and fit trains LDMLR (seed 002) or a baseline: --methods ldmlr (default), "
                   "ce, label-shift, label-shift+ldmlr, cb")  # fmt: skip
    g.add_argument("--ldmlr-option", type=_key_value, action="append", default=[],
                   metavar="KEY=VALUE", help="--task classification: an LDMLR setting, "
                   "repeatable, as bench takes it: target=all|many|medium|few (the classes "
                   "generated for), ratio, gamma, lr and epochs (of the head's fine-tuning), "
                   "diffusion.KEY")  # fmt: skip


def _classifier_params(a: argparse.Namespace) -> dict:
    """LDMLRClassifier's parameters from fit's options; an option that does not apply to a
    classifier is refused, naming it."""
    params: dict = {"random_state": a.seed, "progress": not a.no_progress}
    diffusion: dict = {}
    for flag, _, _ in OPTIONS:
        value = getattr(a, flag[2:].replace("-", "_"), None)
        if value is None or flag in ("--data", "--target"):
            continue
        if flag not in _CLASS_FIT_OPTIONS:
            raise ValueError(f"{flag} does not apply to --task classification")
        name = _CLASS_FIT_OPTIONS[flag]
        if name.startswith("diffusion."):
            diffusion[name.split(".", 1)[1]] = value
        else:
            params[name] = value
    if a.no_gate:
        raise ValueError("--no-gate does not apply to --task classification (LDMLR has no gate)")
    for flag in MAPPINGS:
        given = getattr(a, flag[2:].replace("-", "_"), None) or []
        if given and flag not in ("--diffusion-option", "--encoder-option"):
            raise ValueError(f"{flag} does not apply to --task classification")
    for key, value in a.diffusion_option:
        diffusion[key] = value
    for key, value in a.encoder_option:
        if key not in _CLASS_ENCODER_KEYS:
            raise ValueError(f"--encoder-option {key}: the classifier's MLP encoder takes "
                             f"{', '.join(_CLASS_ENCODER_KEYS)}")  # fmt: skip
        params[key] = value
    for key, value in a.ldmlr_option:
        if key.startswith("diffusion."):
            diffusion[key.split(".", 1)[1]] = value
        elif key in _CLASS_LDMLR_KEYS:
            params[_CLASS_LDMLR_KEYS[key]] = value
        else:
            raise ValueError(f"--ldmlr-option {key}: a classifier takes "
                             f"{', '.join(_CLASS_LDMLR_KEYS)} or diffusion.KEY")  # fmt: skip
    if a.device not in (None, "cpu"):
        raise ValueError(f"--device {a.device}: --task classification runs on the CPU")
    if diffusion:
        params["diffusion"] = diffusion
    params["method"] = (a.methods or CLASS_FIT_METHOD).strip()
    if "," in params["method"]:
        raise ValueError(f"--methods: fit trains one method, got {a.methods!r}")
    return params


def _fit_classification(a: argparse.Namespace) -> int:
    """``fit --task classification``: settings and --out checked, then the table read, the
    classifier trained and saved, its validation table printed."""
    import pandas as pd

    from .classification.classifier import LDMLRClassifier
    from .data.tabular import read_table

    est = LDMLRClassifier(**_classifier_params(a))
    est._check_params()  # every setting, before the data is read
    out = _model_out(a)
    df = read_table(a.data)
    if a.target not in df.columns:
        raise KeyError(f"target column {a.target!r} not in {a.data}; columns are "
                       f"{list(df.columns)}")  # fmt: skip
    col = df[a.target]
    if col.isna().any():
        raise ValueError(f"class column {a.target!r} has {int(col.isna().sum())} missing "
                         "value(s)")  # fmt: skip
    drop = [a.target]
    if a.id_column:
        if a.id_column not in df.columns:
            raise KeyError(f"--id-column {a.id_column!r} is not a column of {a.data}")
        drop.append(a.id_column)
    est.fit(df.drop(columns=drop), pd.Series(col.to_numpy(), name=a.target))
    est.save(out)
    print(est.validation_report())
    for c, n in est.imputed_.items():
        print(f"imputed in {c!r}: {n['train']} training, {n['val']} validation value(s)")
    print(f"model saved in {out.resolve()}")
    return 0


def _class_predictions(est, rows):
    """A classifier's predictions: column ``prediction`` (the class as the model knows it),
    then ``proba_<class>`` per class."""
    import pandas as pd

    proba = est.predict_proba(rows)
    table = pd.DataFrame({"prediction": est.classes_[proba.argmax(1)] if len(proba) else []})
    for k, c in enumerate(est.classes_):
        table[f"proba_{c}"] = proba[:, k]
    return table


def _add_speed_command(sub, subs: dict) -> None:
    p = subs["speed"] = sub.add_parser(
        "speed", help="this machine's matmul rate, diffusion throughput against it, "
        "SMOTER/SMOGN times, streaming generation (latentdiff.speed)")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="tiny sizes: seconds, for a test")
    p.add_argument("--out", metavar="FILE", help="write FILE.json and FILE.md")
    p.add_argument("--parts", default="machine,diffusion,samplers,stream",
                   help="what to measure (comma-separated; default all)")  # fmt: skip
    p.add_argument("--batches", type=_int_list, help="batch sizes (default 64,256,1024,4096)")
    p.add_argument("--dims", type=_int_list, help="feature dimensions (default 64,256,2048)")
    p.add_argument("--table", metavar="CSV", help="table for the SMOTER/SMOGN timing "
                   "(default: a synthetic one)")  # fmt: skip
    p.add_argument("--target", help="its label column")
    p.add_argument("--smogn-rows", type=int, help="rows the smogn package gets (default 3000)")
    p.add_argument("--smogn-python", metavar="PYTHON", help="python of an environment with the "
                   "smogn package ($SMOGN_REF_PYTHON)")  # fmt: skip
    p.add_argument("--stream-rows", type=int, help="synthetic features streamed to disk "
                   "(default 1,000,000 at 2048-d)")  # fmt: skip
    p.add_argument("--stream-dir", help="folder of the temporary feature file (default: TMPDIR)")


def _speed(a: argparse.Namespace) -> int:
    """Run the speed report; print the markdown, write FILE.json / FILE.md with --out."""
    import shlex

    from .speed import PARTS, SpeedPlan, run_speed, write_report

    parts = tuple(x.strip() for x in a.parts.split(",") if x.strip())
    unknown = [x for x in parts if x not in PARTS]
    if unknown:
        raise ValueError(f"--parts: unknown part {unknown[0]!r}; known: {', '.join(PARTS)}")
    if a.table and not a.target:
        raise ValueError("--table needs --target (its label column)")
    kw: dict = {"parts": parts, "table": a.table, "target": a.target,
                "smogn_python": a.smogn_python, "stream_dir": a.stream_dir}  # fmt: skip
    if a.batches:
        kw["batches"] = a.batches
    if a.dims:
        kw["dims"] = a.dims
    if a.smogn_rows:
        kw["smogn_rows"] = a.smogn_rows
    if a.stream_rows:
        kw["stream"] = {"rows": a.stream_rows}
    plan = SpeedPlan.make(a.quick, **kw)
    report = run_speed(plan, log=lambda s: print(f"latentdiff speed: {s}", file=sys.stderr))
    command = "latentdiff " + " ".join(shlex.quote(x) for x in a.argv)
    if a.out:
        js, md = write_report(report, a.out, command)
        print(f"written: {js}, {md}")
    else:
        from .speed.report import markdown

        print(markdown({"command": command, **report}))
    return 0


def _add_analyse_command(sub, subs: dict) -> None:
    p = subs["analyse"] = sub.add_parser(
        "analyse", help="feature-quality analysis of a run (seed 000 app. C): analysis.json "
        "and figures (latentdiff.analysis)")  # fmt: skip
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished benchmark run directory")
    p.add_argument("--out", metavar="DIR", help="where analysis.json and figures/ go "
                   "(default RUN_DIR/analysis)")  # fmt: skip
    p.add_argument("--methods", help="comma-separated methods to analyse (default: all)")
    p.add_argument("--seeds", type=_int_list, help="seeds to analyse (default: all)")
    p.add_argument(
        "--figure-seeds",
        choices=("first", "all"),
        default="first",
        help="draw each method's figures for its first seed (default) or every one",
    )
    p.add_argument("--no-tsne", action="store_true", help="skip the t-SNE projection")


def _analyse(a: argparse.Namespace) -> int:
    """``latentdiff analyse RUN_DIR``: write analysis.json and the figures, print a summary."""
    from .analysis.run import summary_markdown, write_analysis

    if not (Path(a.run_dir) / "config.json").is_file():
        raise FileNotFoundError(f"{a.run_dir} is not a run directory (it has no config.json)")
    methods = _method_list(a.methods) if a.methods else None
    path, pngs = write_analysis(a.run_dir, a.out, methods, a.seeds, a.figure_seeds,
                                tsne=not a.no_tsne)  # fmt: skip
    print(summary_markdown(json.loads(path.read_text())))
    print(f"written: {path} and {len(pngs)} figures in {path.parent / 'figures'}")
    return 0


# --- the classification task (LDMLR, seed 002) ---------------------------------------------------
#: the regression options that set a classification setting (the same meaning), by setting path
_CLASS_ROUTES = {
    "data.data": "classification.data",
    "data.target": "classification.target",
    "train.epochs": "classification.epochs",
    "train.lr": "classification.lr",
    "sampler.ratio": "classification.ldmlr.ratio",
}
#: the diffusion options (--timesteps, --diffusion-option, ...) set LDMLR's diffusion model
_CLASS_DIFFUSION = ("sampler.diffusion", "classification.ldmlr.diffusion")
_FLAG_OF.update({
    "classification.dataset": "--dataset",
    "classification.imbalance_factor": "--imbalance-factor",
    "classification.encoder": "--encoder",
    "classification.ldmlr": "--ldmlr-option",
    "task": "--task",
})  # fmt: skip


def _class_path(path: str) -> str | None:
    """The classification setting a regression option's ``path`` sets, or None (refused)."""
    if path == _CLASS_DIFFUSION[0] or path.startswith(_CLASS_DIFFUSION[0] + "."):
        return _CLASS_DIFFUSION[1] + path[len(_CLASS_DIFFUSION[0]) :]
    return _CLASS_ROUTES.get(path)


def _not_for_classification(flag: str) -> ValueError:
    return ValueError(f"{flag} is a regression option: --task classification does not use it "
                      "(LDMLR's settings: --ldmlr-option KEY=VALUE)")  # fmt: skip


def _class_config(a: argparse.Namespace, methods, seeds) -> BenchConfig:
    """``bench --task classification``'s settings from the options given; an option of the
    regression task is refused by name before anything is read."""
    if a.grid:
        raise ValueError("--grid names a regression grid; --task classification takes --methods")
    if a.dataset is None and a.data and Path(a.data).is_dir():
        raise ValueError(f"--data {a.data} is a folder: --dataset mnist-lt reads the MNIST t10k "
                         "files from one; a class table is a file")  # fmt: skip
    given: dict = {"task": "classification"}
    _put(given, "classification.dataset", a.dataset or ("csv" if a.data else "digits-lt"))
    for flag, path, _ in OPTIONS:
        value = getattr(a, flag[2:].replace("-", "_"))
        if value is None:
            continue
        dest = _class_path(path)
        if dest is None:
            raise _not_for_classification(flag)
        _put(given, dest, value)
        a.flags_given.append((flag, dest))
    if a.no_gate:
        raise _not_for_classification("--no-gate")
    if getattr(a, "analysis_rows", None) is not None:
        raise _not_for_classification("--analysis-rows")
    for flag, path in MAPPINGS.items():
        items = getattr(a, flag[2:].replace("-", "_"), None) or []
        dest = _class_path(path)
        if items and dest is None:
            raise _not_for_classification(flag)
        for key, value in items:
            _put(given, f"{dest}.{key}", value)
            a.flags_given.append((flag, f"{dest}.{key}"))
    for key, value in a.ldmlr_option:
        _put(given, f"classification.ldmlr.{key}", value)
        a.flags_given.append(("--ldmlr-option", f"classification.ldmlr.{key}"))
    for flag, name in (("--imbalance-factor", "imbalance_factor"), ("--encoder", "encoder")):
        value = getattr(a, name)
        if value is not None:
            _put(given, f"classification.{name}", value)
            a.flags_given.append((flag, f"classification.{name}"))
    c = given["classification"]
    if c.get("data"):  # absolute, so that --resume works from anywhere
        c["data"] = str(Path(c["data"]).resolve())
    given.update(methods=list(methods), seeds=list(seeds), progress=not a.no_progress)
    if a.device is not None:
        given["device"] = a.device
    return BenchConfig.from_dict(given)


def _refuse_classification_options(a: argparse.Namespace) -> None:
    """Under the regression task: the classification task's options and data sets refused."""
    from .settings import CLASS_DATASETS

    for flag, given in (("--imbalance-factor", a.imbalance_factor is not None),
                        ("--ldmlr-option", bool(a.ldmlr_option))):  # fmt: skip
        if given:
            raise ValueError(f"{flag} is a classification option: add --task classification")
    if a.dataset in CLASS_DATASETS and a.dataset != "csv":
        raise ValueError(f"--dataset {a.dataset} is a classification data set: add --task "
                         "classification")  # fmt: skip


def _classification(a: argparse.Namespace) -> int:
    """``bench --task classification`` (:mod:`latentdiff.classification.benchmark`, through
    :func:`latentdiff.bench.run_bench`)."""
    methods = [m.strip() for m in (a.methods or "ce,ldmlr").split(",") if m.strip()]
    cfg = _class_config(a, methods, a.seeds)
    return _execute(cfg, a.out, overwrite=a.overwrite, a=a)


def main(argv: list[str] | None = None) -> int:
    parser, subs = _parser()
    a = parser.parse_args(argv)
    a.flags_given = []  # (option, setting path) of what the command line set
    try:
        if a.command == "report":
            return _report(a)
        if a.command in ("fit", "predict"):
            return _fit(a) if a.command == "fit" else _predict(a)
        if a.command == "analyse":
            return _analyse(a)
        if a.command == "speed":
            a.argv = list(sys.argv[1:] if argv is None else argv)
            return _speed(a)
        if a.resume:
            return _execute(_resumed_config(subs[a.command], a), a.resume, resume=True, a=a)
        if a.command in ("demo", "run"):
            if a.command == "demo" and a.dataset is None and a.data is None:
                a.dataset = "diamonds"
            methods = (
                ("vanilla", "latentdiff", "latentdiff-tuned")
                if a.command == "demo"
                else ("vanilla", "latentdiff")
            )
            cfg = _config(a, methods, (a.seed,))
            # the demo replaces its own previous run; run refuses to, unless told
            return _execute(cfg, a.out, overwrite=a.command == "demo" or a.overwrite, a=a)
        if a.task == "classification":
            return _classification(a)
        _refuse_classification_options(a)
        if a.grid and a.methods:
            raise ValueError("give --grid or --methods, not both")
        from .methods import GRIDS

        methods = GRIDS[a.grid] if a.grid else _method_list(a.methods or "vanilla,latentdiff")
        cfg = _config(a, [m.strip() for m in methods if m.strip()], a.seeds)
        return _execute(cfg, a.out, overwrite=a.overwrite, a=a)
    except IncompleteRun as e:
        print(f"latentdiff: error: {e}", file=sys.stderr)
        return 1
    except (
        ValueError,
        KeyError,
        FileNotFoundError,
        FileExistsError,
        IsADirectoryError,
        NotADirectoryError,
    ) as e:
        print(f"latentdiff: error: {_message(e, a.flags_given)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if a.command in ("fit", "predict"):
            print(f"\nlatentdiff: interrupted; {a.out} was not written", file=sys.stderr)
            return 130
        out = a.resume or a.out
        print(f"\nlatentdiff: interrupted; what was finished is kept in {out}: continue with "
              f"latentdiff {a.command} --resume {out}", file=sys.stderr)  # fmt: skip
        return 130


if __name__ == "__main__":
    sys.exit(main())
