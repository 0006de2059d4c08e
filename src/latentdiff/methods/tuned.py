"""``latentdiff-tuned``: LatentDiff with the generator, the ratio, the allocation (LatentDiff's
priority lambda or CoDSA's region vector), the gate quantile, the synthetic sample weight and
CoDSA's sample split chosen on the validation split (:mod:`latentdiff.tuning`; seed 001 on
seed 000).

Options (``--method-option latentdiff-tuned.KEY=VALUE``) are the fields of
:class:`latentdiff.settings.TuneConfig`, checked when the method is made. Combined with network
methods (``latentdiff-tuned+sqinv``) it tunes on the network trained with them.
"""

from __future__ import annotations

from ..params import SettingError
from ..pipeline import VanillaFit
from ..settings import TuneConfig
from ..training import predict_from_features
from ..tuning import Tuner
from .base import HeadMethod, MethodOutput, RunContext
from .head import feature_sample


class LatentDiffTuned(HeadMethod):
    name = "latentdiff-tuned"
    uses = frozenset({"sampler", "head"})

    def __init__(self, **options):
        self.options = options
        try:
            self.tune = TuneConfig.from_dict(options, f"method_options.{self.name}.")
        except SettingError as e:
            raise ValueError(str(e)) from None

    def generators(self, chosen: str | None = None) -> tuple[str, ...]:
        """Those of its ``generators`` option; ``--generator NAME`` (the sampler's ``generator``
        setting) tunes with that one alone, unless the option names others."""
        if chosen is None:
            return self.tune.generators
        if "generators" in self.options and self.tune.generators != (chosen,):
            raise ValueError(
                f"{self.name}.generators = {list(self.tune.generators)} and --generator {chosen} "
                f"contradict each other: give one of them"
            )
        return (chosen,)

    def run_on(self, ctx: RunContext, net: VanillaFit) -> MethodOutput:
        if ctx.sampler.allocation != "priority" or ctx.head.sample_weighting != "none":
            raise ValueError(f"{self.name} chooses its allocation and synthetic weight on "
                             f"validation: sampler.allocation and head.sample_weighting do not "
                             f"apply to it (leave them at priority and none)")  # fmt: skip
        tuner = Tuner(
            net,
            ctx.sampler,
            ctx.head,
            self.tune.replace(generators=self.generators(ctx.sampler.generator)),
            ctx.seed,
            progress=ctx.progress,
            generator_dir=ctx.generator_dir(ctx.head_name(self.name, net)),
            criterion=ctx.criterion,
            # the scores outlive the method (not in the generator folder): a resumed run skips them
            cache_dir=None if ctx.checkpoints is None else ctx.checkpoints / "tuning",
        )
        result = tuner.run()
        preds = {
            sp: predict_from_features(result.model, net.features(sp)) for sp in ("val", "test")
        }
        info = {
            "tuning": result.report,
            "per_bin": result.per_bin,
            "n_synthetic_accepted": int(result.y_syn.size),
            "head_best_epoch": result.head_result.best_epoch,
            "stage_seconds": result.seconds,
            "network_train_seconds": net.seconds,
        }
        if net.loaded_from is not None:
            info["network_loaded_from_checkpoint"] = True
        sample = feature_sample(ctx, net, result.sampler, result.Z_syn, result.y_syn)
        return MethodOutput(preds, info, model=result.model, analysis=sample)
