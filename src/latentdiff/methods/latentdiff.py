"""LatentDiff (seed 000): augment the vanilla network's feature space and retrain its head.

``retrain-head`` is its control: stage 7 exactly as LatentDiff runs it, but with no synthetic
feature (ratio 0). The difference between the two is what the synthetic features contribute;
the difference between ``retrain-head`` and ``vanilla`` is what retraining the head contributes.
"""

from __future__ import annotations

from ..pipeline import fit_latentdiff
from ..sampler import LatentDiffSampler
from .base import Method, MethodOutput, RunContext


class LatentDiff(Method):
    name = "latentdiff"
    overrides: dict = {}

    def run(self, ctx: RunContext) -> MethodOutput:
        sampler = LatentDiffSampler(**{"random_state": ctx.seed, **ctx.sampler, **self.overrides})
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


class RetrainHead(LatentDiff):
    """Control: LatentDiff's head retraining on real features only (no diffusion model)."""

    name = "retrain-head"
    overrides = {"ratio": 0.0, "diffusion": {"n_steps": 1}}

    def run(self, ctx: RunContext) -> MethodOutput:
        out = super().run(ctx)
        return MethodOutput(out.predictions, {"head_best_epoch": out.info["head_best_epoch"]})
