"""Mean +- std over seeds and paired differences of the LDMLR run files.

python scripts/ldmlr_table.py FILES...      one table (vs ce) of the files given
python scripts/ldmlr_table.py --all [DIR]   regenerate DIR/tables.md (default
                                            docs/results/issue-12/ldmlr) from every result
                                            folder in it
"""

from __future__ import annotations

import glob
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REGIONS = ("all", "many", "medium", "few")


def load(paths) -> dict:
    """(method, region, metric) -> {seed: value} of the records of ``paths``."""
    vals: dict = defaultdict(dict)
    for path in paths:
        for r in json.load(open(path))["records"]:
            vals[(r["method"], r["region"], r["metric"])][r["seed"]] = r["value"]
    return vals


def _ms(a: np.ndarray, sign: str = "") -> str:
    sd = a.std(ddof=1) if len(a) > 1 else 0.0
    return f"{a.mean():{sign}.1f} ± {sd:.1f}"


def cell(vals, method, region, metric="accuracy", ref="ce", value=True) -> str:
    """'mean ± std [paired difference vs ref]' in %; '-' where the region is empty."""
    v = vals.get((method, region, metric), {})
    seeds = sorted(s for s in v if v[s] is not None)
    if not seeds:
        return "-"
    out = _ms(100 * np.array([v[s] for s in seeds])) if value else ""
    if ref is not None and method != ref:
        base = vals[(ref, region, metric)]
        d = _ms(100 * np.array([v[s] - base[s] for s in seeds]), "+")
        out = f"{out} [{d}]" if value else d
    return out


def table(vals, methods=None, ref="ce") -> str:
    """Accuracy and macro-F1 per region, every method of ``vals`` (or ``methods``)."""
    methods = methods or list(dict.fromkeys(k[0] for k in vals))
    lines = []
    for metric in ("accuracy", "macro_f1"):
        lines += [f"\n{metric} (%), mean ± std over seeds; [paired difference vs {ref}]",
                  f"| method | {' | '.join(REGIONS)} |", "|---|---|---|---|---|"]  # fmt: skip
        for m in methods:
            cells = [cell(vals, m, r, metric, ref) for r in REGIONS]
            lines.append(f"| {m} | {' | '.join(cells)} |")
    n = len({s for v in vals.values() for s in v})
    return "\n".join(lines) + f"\n\nseeds: {n}\n"


def _files(root: Path, pattern: str) -> list[str]:
    return sorted(glob.glob(str(root / pattern)))


def _section(root: Path, title: str, command: str, pattern: str, **kw) -> str:
    files = _files(root, pattern)
    if not files:
        return ""
    return f"\n# {title}\n\n`{command}`; files `{pattern}`\n" + table(load(files), **kw)


def figure2(root: Path) -> str:
    """Accuracy difference vs CE (all classes; few classes, or medium where none is few) by
    generation ratio, per imbalance factor and target."""
    out = []
    for imb in ("100", "10"):
        files = _files(root, f"ratio/mnist-if{imb}-seed*.json")
        if not files:
            continue
        vals = load(files)
        variants = json.load(open(files[0]))["variants"]
        targets = list(dict.fromkeys(v["target"] for v in variants.values()))
        ratios = list(dict.fromkeys(v["ratio"] for v in variants.values()))
        tail = "few" if cell(vals, "ce", "few", ref=None) != "-" else "medium"
        head = [f"target {t}: {r} classes" for t in targets for r in ("all", tail)]
        out += [f"\nIF {imb}: CE + LDMLR minus CE, accuracy points, mean ± std over "
                f"{len(files)} seeds (CE: all {cell(vals, 'ce', 'all', ref=None)}, "
                f"{tail} {cell(vals, 'ce', tail, ref=None)})\n",
                f"| ratio | {' | '.join(head)} |", "|---" * (len(head) + 1) + "|"]  # fmt: skip
        for ratio in ratios:
            cells = [cell(vals, f"ldmlr [{t}, r={ratio}]", r, value=False)
                     for t in targets for r in ("all", tail)]  # fmt: skip
            out.append(f"| {ratio} | {' | '.join(cells)} |")
    if not out:
        return ""
    return ("\n# Figure 2: generation ratio (MNIST-LT; `python scripts/ldmlr_sweep.py`, "
            "files `ratio/`)\n" + "\n".join(out) + "\n")  # fmt: skip


def table1_gains(root: Path) -> str:
    """Each base with +ldmlr minus the base alone (seed 002 Table 1's arrows), paired."""
    lines = []
    for imb in ("100", "10"):
        files = _files(root, f"table1/mnist-if{imb}-seed*.json")
        if not files:
            continue
        vals = load(files)
        variants = json.load(open(files[0]))["variants"]
        bases = variants["base"]["methods"]
        targets = [t for t in variants if t != "base"]
        tail = targets[-1] if targets[-1] != "all" else "few"
        head = ["base alone"] + [f"+ldmlr ({t}) minus base: all / {tail}" for t in targets]
        lines += [f"\nIF {imb}, accuracy %, mean ± std over {len(files)} seeds; "
                  "[+ldmlr minus the base, paired]\n",
                  f"| base | {' | '.join(head)} |", "|---" * (len(head) + 1) + "|"]  # fmt: skip
        for b in bases:
            plus = "ldmlr" if b == "ce" else f"{b}+ldmlr"
            cells = [cell(vals, b, "all", ref=None)]
            for t in targets:
                cells.append(" / ".join(cell(vals, f"{plus} [{t}]", r, ref=b, value=False)
                                        for r in ("all", tail)))  # fmt: skip
            lines.append(f"| {b} | {' | '.join(cells)} |")
    if not lines:
        return ""
    return (
        "\n# Table 1 shape: each base with and without LDMLR (MNIST-LT; "
        "`python scripts/ldmlr_sweep.py`, files `table1/`)\n" + "\n".join(lines) + "\n"
    )


def controls_gains(root: Path) -> str:
    """CE + LDMLR with the diffusion model minus the same with each control generator, and minus
    crt, paired by seed: what the diffusion model adds."""
    lines = []
    for imb in ("100", "10"):
        files = _files(root, f"controls/mnist-if{imb}-seed*.json")
        if not files:
            continue
        vals = load(files)
        variants = json.load(open(files[0]))["variants"]
        targets = [v.split(", ")[-1] for v in variants if v.startswith("diffusion, both")]
        tail = targets[-1]
        lines += [f"\nIF {imb}, accuracy points, mean ± std over {len(files)} seeds, paired: "
                  f"all classes / {tail} classes\n",
                  "| LDMLR (diffusion) minus | " + " | ".join(f"target {t}" for t in targets)
                  + " |", "|---" * (len(targets) + 1) + "|"]  # fmt: skip
        rows = [(f"the same with the {g} generator", lambda t, g=g: f"ldmlr [{g}, both, {t}]")
                for g in ("gaussian", "resample")]  # fmt: skip
        rows += [("crt (no generation)", lambda t: "crt"), ("ce-ft (no generation)",
                                                             lambda t: "ce-ft")]  # fmt: skip
        for label, ref in rows:
            cells = [" / ".join(cell(vals, f"ldmlr [diffusion, both, {t}]", r, ref=ref(t),
                                     value=False) for r in ("all", tail))
                     for t in targets]  # fmt: skip
            lines.append(f"| {label} | {' | '.join(cells)} |")
        only = [f"ldmlr [{g}, generated only, all]" for g in ("diffusion", "gaussian", "resample")]
        cells = [cell(vals, m, "all", ref="crt", value=False) for m in only]
        lines += ["\nhead on generated features only (target all) minus crt, all classes: "
                  + ", ".join(f"{g} {c}" for g, c in zip(("diffusion", "gaussian", "resample"),
                                                        cells, strict=True))]  # fmt: skip
    if not lines:
        return ""
    return (
        "\n# What the diffusion model adds: LDMLR against its controls (MNIST-LT; "
        "`python scripts/ldmlr_sweep.py`, files `controls/`)\n" + "\n".join(lines) + "\n"
    )


def spread(root: Path) -> str:
    """Where the generated features of the few classes lie (scripts/ldmlr_spread.py)."""
    path = root / "spread" / "mnist-if100.json"
    if not path.exists():
        return ""
    recs = json.loads(path.read_text())["records"]
    lines = ["\n# Generated features of the few classes, IF 100 (`python scripts/ldmlr_spread.py`,"
             " file `spread/mnist-if100.json`)\n",
             "Per generator and few class, mean ± std over seeds: spread = RMS distance to the "
             "class's real mean, generated / encoded; shift = distance of the generated mean to "
             "the real mean in real RMS spreads; CE agrees = share of generated features the "
             "stage-1 CE head assigns to their class (%).\n",
             "| generator | class (training rows) | spread | shift | CE agrees |",
             "|---|---|---|---|---|"]  # fmt: skip
    keys = dict.fromkeys((r["generator"], r["class"], r["rows"]) for r in recs)
    for gen, k, n in keys:
        sel = [r for r in recs if r["generator"] == gen and r["class"] == k]
        cells = []
        for m, f, d in (("spread", 1, 2), ("shift", 1, 2), ("ce_agrees", 100, 0)):
            v = np.array([r[m] for r in sel]) * f
            cells.append(f"{v.mean():.{d}f} ± {v.std(ddof=1) if len(v) > 1 else 0:.{d}f}")
        lines.append(f"| {gen} | {k} ({n}) | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def regenerate(root: Path) -> str:
    sweep = "python scripts/ldmlr_sweep.py"
    parts = [
        "<!-- generated by `python scripts/ldmlr_table.py --all`; do not edit by hand -->\n"
        "# LDMLR on MNIST-LT (seed 002): result tables\n\n"
        "Accuracy and macro-F1 in %, mean ± std over seeds (0, 1, 2; one data split), "
        "[paired difference, same seed]. Regions by training rows per class: many > 100, "
        "medium 20-100, few < 20 (IF 100: 4 / 4 / 2 classes; IF 10: 8 / 2 / 0).\n",
        figure2(root),
        table1_gains(root),
        controls_gains(root),
        spread(root),
    ]
    for imb in ("100", "10"):
        parts.append(_section(root, f"Table 1 shape, IF {imb}, all methods", sweep,
                              f"table1/mnist-if{imb}-seed*.json"))  # fmt: skip
    for imb in ("100", "10"):
        parts.append(_section(root, f"Table 5 and generator controls, IF {imb}", sweep,
                              f"controls/mnist-if{imb}-seed*.json"))  # fmt: skip
    for imb in ("100", "10"):
        parts.append(_section(root, f"Figure 2 in full, IF {imb}", sweep,
                              f"ratio/mnist-if{imb}-seed*.json"))  # fmt: skip
    first = "bash scripts/ldmlr_seeds.sh"
    for imb in ("100", "10"):
        parts.append(_section(root, f"First measurements, IF {imb}, target all, ratio 0.2",
                              first, f"mnist-if{imb}-seed*.json"))  # fmt: skip
    for target in ("few", "medium", "many"):
        parts.append(_section(root, f"Table 4, IF 100, generation for the {target} classes",
                              f"TARGETS={target} bash scripts/ldmlr_targets.sh",
                              f"targets/mnist-if100-{target}-seed*.json"))  # fmt: skip
    parts.append(_section(root, "Table 5, IF 100, head on generated features only, target all",
                          "bash scripts/ldmlr_generated_only.sh",
                          "generated-only/mnist-if100-seed*.json"))  # fmt: skip
    return "".join(p for p in parts if p)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--all"]:
        root = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/results/issue-12/ldmlr")
        (root / "tables.md").write_text(regenerate(root))
        print(f"wrote {root / 'tables.md'}")
    else:
        print(table(load(sys.argv[1:])))
