"""VANILLA: the plain regression network, no treatment of imbalance (seed 004, sec. 4)."""

from __future__ import annotations

from .base import Method, MethodOutput, RunContext


class Vanilla(Method):
    name = "vanilla"

    def run(self, ctx: RunContext) -> MethodOutput:
        v = ctx.vanilla()
        preds = {s: v.predictions(s) for s in ("val", "test")}
        return MethodOutput(preds, {"best_epoch": v.result.best_epoch, "train_seconds": v.seconds})
