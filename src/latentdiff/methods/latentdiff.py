"""LatentDiff (seed 000): augment the vanilla network's feature space and retrain its head.

``retrain-head`` is its control: stage 7 exactly as LatentDiff runs it, but with no synthetic
feature (ratio 0). The difference between the two is what the synthetic features contribute;
the difference between ``retrain-head`` and ``vanilla`` is what retraining the head contributes.
"""

from __future__ import annotations

import numpy as np

from ..pipeline import fit_latentdiff, refit_head
from ..sampler import LatentDiffSampler
from ..training import predict_from_features
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
            "per_bin": [{**r, **c} for r, c in zip(s.report_, fit.consistency(), strict=True)],
            "head_best_epoch": fit.head_result.best_epoch,
            "stage_seconds": fit.seconds,
            "vanilla_train_seconds": fit.vanilla.seconds,
        }
        return MethodOutput({sp: fit.predict(sp) for sp in ("val", "test")}, info)


class RetrainHead(Method):
    """Control: LatentDiff's head retraining (stage 7) on the real features only."""

    name = "retrain-head"

    def run(self, ctx: RunContext) -> MethodOutput:
        v = ctx.vanilla()
        m = v.features("train").shape[1]
        model, result = refit_head(
            v, np.empty((0, m)), np.empty(0), ctx.head, ctx.seed, ctx.progress
        )
        preds = {sp: predict_from_features(model, v.features(sp)) for sp in ("val", "test")}
        return MethodOutput(preds, {"head_best_epoch": result.best_epoch})
