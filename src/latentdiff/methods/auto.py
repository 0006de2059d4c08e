"""``auto``: the method chosen on the validation split among candidates, with a guard against
the winner's curse (:class:`latentdiff.settings.AutoConfig`).

Picking the lowest validation score among many candidates picks, on a small validation split,
partly the one whose noise was luckiest: its test error is worse than its validation error
promised, and can be worse than vanilla's. The guard here is a paired, stratified bootstrap of
the validation split (resampling within each label bin, the same draw for every candidate): a
candidate may replace vanilla only if

* it beats vanilla on the bin-averaged criterion in at least ``confidence`` of the resamples,
  and
* its all-sample validation error is, at the ``confidence`` quantile of the resamples, at most
  ``1 + all_margin`` times vanilla's (the few-shot gain may not be bought with the common
  labels);

among the candidates that pass, the lowest criterion wins; when none passes, vanilla does. The
run record keeps every candidate's score, the bootstrap figures, the unguarded choice and the
margin by which the winner won.
"""

from __future__ import annotations

import numpy as np

from ..metrics import bin_balanced_error, shot_metrics
from ..params import SettingError
from ..settings import AutoConfig
from .base import Method, MethodOutput, RunContext

#: the weightings ``+WEIGHTING`` chooses between, on validation
WEIGHTINGS = ("sqinv", "lds")
PLACEHOLDER = "+WEIGHTING"


class Auto(Method):
    name = "auto"

    def __init__(self, **options):
        self.options = options
        try:
            self.config = AutoConfig.from_dict(options, "method_options.auto.")
        except SettingError as e:
            raise ValueError(str(e)) from None
        from . import get_method

        uses: set[str] = set()
        self._candidate_methods = []
        for c in self.config.candidates:
            if c.split("+")[0].strip().lower() == "auto" or "+auto" in c.lower():
                raise ValueError("auto cannot be a candidate of itself")
            names = (
                [c.replace(PLACEHOLDER, f"+{w}") for w in WEIGHTINGS] if PLACEHOLDER in c else [c]
            )
            for n in names:
                self._candidate_methods.append(get_method(n))  # an unknown one is refused here
                uses |= self._candidate_methods[-1].uses
        if self.config.guard and "vanilla" not in self.config.candidates:
            raise ValueError("auto's guard compares with vanilla: keep vanilla among candidates")
        self.uses = frozenset(uses)

    def generators(self, chosen: str | None = None) -> tuple[str, ...]:
        """The generators of every candidate."""
        return tuple(
            dict.fromkeys(g for m in self._candidate_methods for g in m.generators(chosen))
        )

    def run(self, ctx: RunContext) -> MethodOutput:
        ds = ctx.dataset
        metric = self.config.metric or ctx.criterion or ctx.train.select_metric
        outputs: dict[str, MethodOutput] = {}
        seconds: dict[str, float] = {}
        failed: dict[str, str] = {}

        def run(name: str) -> MethodOutput | None:
            if name not in outputs and name not in failed:
                try:
                    output, secs = ctx.run_method(name)
                except ValueError as e:  # a candidate that cannot run here is left out
                    failed[name] = str(e)
                    return None
                if not all(np.all(np.isfinite(p)) for p in output.predictions.values()):
                    failed[name] = "NaN or inf predictions: training diverged"
                    return None
                outputs[name], seconds[name] = output, secs
            return outputs.get(name)

        def score(name: str) -> float:
            return bin_balanced_error(ds.val.y, outputs[name].predictions["val"], ds.eval_bins,
                                      metric)  # fmt: skip

        names: list[str] = []
        for c in self.config.candidates:
            if PLACEHOLDER in c:  # the better weighting on validation, then the combination
                ok = [w for w in WEIGHTINGS if run(w) is not None]
                if not ok:
                    continue
                best = min(ok, key=score)
                c = c.replace(PLACEHOLDER, f"+{best}")
            if run(c) is not None:
                names.append(c)
        if not names:
            raise ValueError(f"no auto candidate could run: {failed}")
        if self.config.guard and "vanilla" not in names:
            raise ValueError(f"auto's guard needs vanilla, which could not run: {failed}")
        report = self._choose(ds, names, outputs, metric, ctx.seed)
        # every candidate's test error, recorded to measure the guard (what the unguarded choice
        # would have scored); the choice above saw validation predictions only
        regions = ds.regions.of(ds.test.y)
        for entry in report["candidates"]:
            test = shot_metrics(ds.test.y, outputs[entry["method"]].predictions["test"], regions)
            entry["test"] = {r: test[r][metric] for r in test}
        report["seconds"] = seconds
        report["seconds_total"] = float(sum(seconds.values()))
        if failed:
            report["failed"] = failed
        chosen = outputs[report["chosen"]]
        return MethodOutput(
            dict(chosen.predictions), {"auto": report}, model=chosen.model, analysis=chosen.analysis
        )

    def _choose(self, ds, names, outputs, metric: str, seed: int) -> dict:
        cfg = self.config
        y = ds.val.y
        preds = {n: np.asarray(outputs[n].predictions["val"], dtype=np.float64) for n in names}
        scores = {n: bin_balanced_error(y, preds[n], ds.eval_bins, metric) for n in names}
        naive = min(names, key=lambda n: scores[n])
        boot = _bootstrap(y, preds, ds.eval_bins, metric, cfg.n_bootstrap, seed)
        candidates = []
        for n in names:
            entry = {"method": n, "val_score": scores[n], "val_all": boot[n]["all"]}
            if n != "vanilla" and "vanilla" in boot:
                d = boot[n]["score_draws"] < boot["vanilla"]["score_draws"]
                ratio = boot[n]["all_draws"] / np.maximum(boot["vanilla"]["all_draws"], 1e-300)
                entry["p_better"] = float(d.mean())
                entry["all_ratio_bound"] = float(np.quantile(ratio, cfg.confidence))
                entry["eligible"] = bool(
                    entry["p_better"] >= cfg.confidence
                    and entry["all_ratio_bound"] <= 1 + cfg.all_margin
                )
            else:
                entry["eligible"] = True
            candidates.append(entry)
        if cfg.guard:
            eligible = [e["method"] for e in candidates if e["eligible"]]
            chosen = min(eligible, key=lambda n: scores[n])
        else:
            chosen = naive
        runner_up = sorted((scores[n], n) for n in names if n != chosen)
        return {
            "criterion": f"validation {metric.upper()} averaged over the label bins",
            "guard": cfg.to_dict(),
            "candidates": candidates,
            "chosen": chosen,
            "unguarded_choice": naive,
            "chosen_score": scores[chosen],
            "vanilla_score": scores.get("vanilla"),
            "margin_over_runner_up": (runner_up[0][0] - scores[chosen]) if runner_up else None,
        }


def _bootstrap(y, preds: dict, bins, metric: str, n_draws: int, seed: int) -> dict:
    """Paired, stratified bootstrap of the validation split: per candidate, the criterion and the
    all-sample error on each of ``n_draws`` resamples (every label bin resampled within itself,
    the same rows for every candidate)."""
    rng = np.random.default_rng([int(seed), 20_251_129])
    b = bins.assign(y)
    members = [np.flatnonzero(b == k) for k in np.unique(b)]
    draws = [m[rng.integers(0, m.size, size=(n_draws, m.size))] for m in members]
    sizes = np.array([m.size for m in members], dtype=np.float64)
    out = {}
    for n, p in preds.items():
        e = np.abs(p - y)
        e = e**2 if metric == "mse" else e
        per_bin = np.stack([e[d].mean(axis=1) for d in draws], axis=1)  # (draws, bins)
        out[n] = {
            "score_draws": per_bin.mean(axis=1),
            "all_draws": per_bin @ sizes / sizes.sum(),
            "all": float(e.mean()),
        }
    return out
