"""Head methods on a trained network's frozen features.

* ``latentdiff`` (seed 000): generate synthetic features with the label-conditioned diffusion
  model where labels are rare or errors high, gate them, retrain the head on real + synthetic.
* ``latentgan`` (seed 000, app. E): the same allocation, gate and head retraining with a
  label-conditioned GAN in place of the diffusion model.
* ``latentdiff-gaussian``, ``latentdiff-interp`` (issue 11): the same with a generator that has
  nothing to train, a per-bin Gaussian or per-bin interpolation between real features (SMOTE in
  feature space); ``latentdiff --generator NAME`` is the same as ``latentdiff-NAME``.
* ``pogdiff`` (seed 003, issue 12): the same with the diffusion model trained on PoGDiff's
  loss, which borrows from a feature neighbour's condition (:mod:`latentdiff.generators.pogdiff`);
  ``latentdiff --generator pogdiff`` is the same.
* ``retrain-head``: the control, stage 7 with no synthetic feature (ratio 0). The difference
  between it and ``latentdiff`` is what the synthetic features contribute.
* ``rrt`` (seed 004, sec. 4): "regressor re-training", the head retrained with inverse-frequency
  weights on the frozen encoder.

Combined with network methods (``latentdiff+lds``), the network is the one trained with them,
and those of their hooks that act on weights and losses also act in the head retraining
(:mod:`latentdiff.hooks`).
"""

from __future__ import annotations

import numpy as np

from ..featurefile import FeatureFile
from ..generators.transfer import export_path, resolve_source
from ..io import fingerprint
from ..pipeline import VanillaFit, fit_latentdiff, refit_head
from ..samplers import LatentDiffSampler
from ..samplers.latentdiff import shared_generators
from ..settings import UNTRAINED_GENERATORS
from ..training import predict_from_features
from .base import HeadMethod, MethodOutput, RunContext
from .reweighting import WeightingHook, default_inv_clip
from .variants import Overrides


def feature_sample(ctx: RunContext, net: VanillaFit, sampler: LatentDiffSampler, Z_syn, y_syn):
    """The feature sample the analysis keeps (:mod:`latentdiff.analysis.sample`): the real
    training features, the accepted synthetic ones and the held-out (test) real ones,
    ``ctx.analysis_rows`` rows per side at most, on the sampler's generation bins; None when the
    context keeps none."""
    if not ctx.analysis_rows:
        return None
    from ..analysis.sample import FeatureSample

    return FeatureSample.take(net.features("train"), ctx.dataset.train.y, Z_syn, y_syn,
                              sampler.bins_, sampler.bin_labels_, ctx.analysis_rows, ctx.seed,
                              regions=ctx.dataset.regions, generator=sampler.generator,
                              Z_test=net.features("test"), y_test=ctx.dataset.test.y)  # fmt: skip


class LatentDiff(HeadMethod):
    name = "latentdiff"
    #: the generator it fits (:data:`latentdiff.generators.GENERATORS`) ...
    generator = "diffusion"
    #: ... unless the sampler's ``generator`` setting (``--generator``) names another: True
    #: where the method follows that setting, False where its generator is its identity
    follows_setting = True
    uses = frozenset({"sampler", "head"})

    def __init__(self, **options):
        """``options``: sampler, generator and head settings that replace the run's for this
        method (:mod:`latentdiff.methods.variants`; ``latentdiff[ratio=0.4]`` or
        ``--method-option latentdiff.ratio=0.4``)."""
        self._init(options, self.name)

    @classmethod
    def variant(cls, name: str, options: dict):
        """The method ``name`` = ``BASE[settings]`` with the settings ``options``."""
        method = cls.__new__(cls)
        method._init(options, name)
        return method

    def _init(self, options: dict, where: str) -> None:
        self.options = options
        self.overrides = Overrides(options, self.generator, where) if options else None

    @property
    def file_name(self) -> str:
        """The name its files (generator export and training state) go by: a variant's has a
        short hash of its settings, so that variants in one run keep theirs apart."""
        if self.overrides is None:
            return self.name
        return f"{self.name}.{fingerprint(repr(sorted(self.overrides.paths().items())))[:8]}"

    def settings_for(self, ctx: RunContext):
        """``(sampler, head)`` settings of this method in ``ctx``: the run's, with the
        variant's in their place."""
        if self.overrides is None:
            return ctx.sampler, ctx.head
        (generator,) = self.generators(ctx.sampler.generator)
        if generator != self.overrides.generator:
            other = [p for p, _ in self.overrides.items if p == self.overrides.generator]
            if other:
                raise ValueError(f"{self.overrides.where}: settings of the {other[0]} generator, "
                                 f"and --generator makes it generate with {generator}")  # fmt: skip
        return self.overrides.apply(ctx.sampler, ctx.head)

    def generators(self, chosen: str | None = None) -> tuple[str, ...]:
        if chosen is None or chosen == self.generator:
            return (self.generator,)
        if self.follows_setting:
            return (chosen,)
        raise ValueError(
            f"{self.name} generates with the {self.generator} generator, not {chosen}: use "
            f"latentdiff with --generator {chosen}, or drop --generator"
        )

    def sampler_settings(self, config):
        """The sampler's settings this method runs with: the run's (a subclass may fix one)."""
        return config

    def run_on(self, ctx: RunContext, net: VanillaFit) -> MethodOutput:
        # the generator is exported as checkpoints/seed-S/generator-NAME.safetensors, NAME the
        # method with its network's methods (latentdiff, latentdiff+lds); generator_from (a
        # file, or a run directory: its same seed's export of NAME) starts from such a file
        name = ctx.head_name(self.file_name, net)
        config, head = self.settings_for(ctx)
        config = self.sampler_settings(config)
        (generator,) = self.generators(config.generator)
        if config.generator_from is not None:
            if generator in UNTRAINED_GENERATORS:
                raise ValueError(
                    f"{self.name}: generator_from is set but the {generator} generator has "
                    f"nothing trained to start from (it is estimated from the features)"
                )
            source = resolve_source(config.generator_from, ctx.seed, name)
            config = config.replace(generator_from=str(source))
        sampler = LatentDiffSampler.from_config(
            config,
            generator=generator,
            random_state=ctx.seed,
            progress=ctx.progress,
            checkpoint_dir=ctx.generator_dir(name),
            device=ctx.device,
        )
        with shared_generators(ctx.generators):  # variants fitting the same one share it
            fit = fit_latentdiff(net, sampler, head, ctx.seed, ctx.progress)
        s, trained = fit.sampler, fit.sampler.generator_.trains
        if ctx.checkpoints is not None and trained:  # an estimated generator has no export
            s.export_generator(export_path(ctx.checkpoints, name))
        info = {
            "generator": generator,
            "n_synthetic_accepted": fit.n_synthetic,
            "n_synthetic_requested": int(sum(r["requested"] for r in s.report_)),
            "acceptance_rate": s.acceptance_rate_,
            "per_bin": [{**r, **c} for r, c in zip(s.report_, fit.consistency(), strict=True)],
            "head_best_epoch": fit.head_result.best_epoch,
            "stage_seconds": fit.seconds,
            "generator_fit_seconds": s.generator_seconds_,  # within stage_seconds.sampler_fit
            # True: the generator another method of this seed fitted (the same fit, not redone)
            "generator_shared": s.generator_shared_,
            "network_train_seconds": net.seconds,
        }
        if self.overrides is not None:  # a variant: the settings that replace the run's
            info["settings"] = self.overrides.paths()
        if trained:
            info["generator_loss"] = s.generator_.loss_summary_  # first and last 50 steps
            info["generator_steps"] = s.generator_.n_steps_  # fewer than n_steps: stopped early
            if getattr(s.generator_, "early_stopping_", None) is not None:
                info["generator_early_stopping"] = s.generator_.early_stopping_
            if s.generator_.transfer_ is not None:
                info["transfer"] = s.generator_.transfer_
            if getattr(s.generator_, "psi_summary_", None) is not None:  # pogdiff: eq. 12's psi
                info["pogdiff_psi"] = s.generator_.psi_summary_
            if getattr(s.generator_, "resumed_from_step_", 0):
                info["generator_resumed_from_step"] = s.generator_.resumed_from_step_
        else:  # the rows each generation bin borrowed from its neighbours (min_rows)
            info["generator_borrowed_rows"] = s.generator_.borrowed_.tolist()
        if net.loaded_from is not None:
            info["network_loaded_from_checkpoint"] = True
        sample = feature_sample(ctx, net, s, fit.Z_syn, fit.y_syn)  # before the file goes
        if isinstance(fit.Z_syn, FeatureFile):  # streamed to disk (stream_dir): used up
            fit.Z_syn.remove()
        preds = {sp: fit.predict(sp) for sp in ("val", "test")}
        return MethodOutput(preds, info, model=fit.model, analysis=sample)


class LatentDiffFill(LatentDiff):
    """LatentDiff generating in the empty generation bins inside the label range
    (``empty_bins = "interp"``, :class:`latentdiff.samplers.LatentDiffSampler`) whatever the
    run's setting, so that one run compares it with latentdiff (issue 13, zero-shot labels)."""

    name = "latentdiff-fill"

    def sampler_settings(self, config):
        return config.replace(empty_bins="interp")


class LatentGAN(LatentDiff):
    name = "latentgan"
    generator = "gan"
    follows_setting = False


class LatentDiffGaussian(LatentDiff):
    """LatentDiff with the per-bin Gaussian generator (:mod:`latentdiff.generators.gaussian`)."""

    name = "latentdiff-gaussian"
    generator = "gaussian"
    follows_setting = False


class LatentDiffInterp(LatentDiff):
    """LatentDiff with per-bin interpolation, SMOTE in feature space
    (:mod:`latentdiff.generators.interp`)."""

    name = "latentdiff-interp"
    generator = "interp"
    follows_setting = False


class PoGDiff(LatentDiff):
    """LatentDiff with the diffusion model trained on PoGDiff's loss (seed 003, eq. 8-13;
    :mod:`latentdiff.generators.pogdiff`)."""

    name = "pogdiff"
    generator = "pogdiff"
    follows_setting = False


def _head_only(ctx: RunContext, net: VanillaFit, hooks) -> MethodOutput:
    m = net.features("train").shape[1]
    model, result = refit_head(
        net, np.empty((0, m)), np.empty(0), ctx.head, ctx.seed, ctx.progress, hooks=hooks
    )
    preds = {sp: predict_from_features(model, net.features(sp)) for sp in ("val", "test")}
    return MethodOutput(preds, {"head_best_epoch": result.best_epoch}, model=model)


class RetrainHead(HeadMethod):
    """Control: LatentDiff's head retraining (stage 7) on the real features only."""

    name = "retrain-head"

    def run_on(self, ctx: RunContext, net: VanillaFit) -> MethodOutput:
        return _head_only(ctx, net, None)


class RRT(HeadMethod):
    """RRT: the head retrained with INV weights (1 / n_b, the counts clipped as INV clips them
    on the data set) on frozen features, with LatentDiff's stage-7 optimisation (warm start from
    the trained head). ``rrt+lds``: the network trained with LDS and the head's INV weights
    LDS-smoothed too."""

    name = "rrt"

    def run_on(self, ctx: RunContext, net: VanillaFit) -> MethodOutput:
        lds = {}
        for h in net.hooks:  # RRT + LDS: the inverse weights smoothed as the network's were
            if isinstance(h, WeightingHook) and h.kw["lds"]:
                lds = {k: h.kw[k] for k in ("lds", "kernel", "ks", "sigma")}
        inv = WeightingHook("inv", clip=default_inv_clip(ctx.dataset.name), **lds)
        hooks = [h for h in net.hooks if h.kind != "weights"] + [inv]
        return _head_only(ctx, net, hooks)
