"""LatentDiff (seed 000): augment the vanilla network's feature space and retrain its head."""

from __future__ import annotations

from ..pipeline import fit_latentdiff
from ..sampler import LatentDiffSampler
from .base import Method, MethodOutput, RunContext


class LatentDiff(Method):
    name = "latentdiff"

    def run(self, ctx: RunContext) -> MethodOutput:
        sampler = LatentDiffSampler(**{"random_state": ctx.seed, **ctx.sampler})
        fit = fit_latentdiff(ctx.vanilla(), sampler, ctx.head, ctx.seed, ctx.progress)
        s = fit.sampler
        info = {
            "n_synthetic_accepted": fit.n_synthetic,
            "n_synthetic_requested": int(sum(r["requested"] for r in s.report_)),
            "acceptance_rate": s.acceptance_rate_,
            "per_bin": s.report_,
            "head_best_epoch": fit.head_result.best_epoch,
            "stage_seconds": fit.seconds,
            "vanilla_train_seconds": fit.vanilla.seconds,
        }
        return MethodOutput({sp: fit.predict(sp) for sp in ("val", "test")}, info)
