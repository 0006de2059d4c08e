"""Every setting of every stage, typed and checked when it is built (:mod:`latentdiff.params`).

========================  =====================================================  ================
settings                  what they configure                                    used by
========================  =====================================================  ================
:class:`TrainConfig`      stage 1: the network h(f(x)) (eq. 1, seed 000)         ``training``
:class:`HeadConfig`       stage 7: the head on real + synthetic features          ``training``
:class:`DiffusionConfig`  stage 3: the feature diffusion model (Table 6)          ``generators``
:class:`PoGDiffConfig`    the diffusion model trained with PoGDiff's loss (003)   ``generators``
:class:`GANConfig`        LatentGAN's generator (seed 000, app. E)                ``generators``
:class:`GaussianConfig`   the per-bin Gaussian generator (issue 11)               ``generators``
:class:`InterpConfig`     the per-bin interpolation generator (SMOTE in z)        ``generators``
:class:`SamplerConfig`    stages 4-6: bins, ratio, priority, gate (Table 6)       ``samplers``
:class:`DataConfig`       which data set, from where, binned how                  ``data``
:class:`LDMLRConfig`      classification stages 2-3: LDMLR (seed 002)            ``classification``
:class:`BenchConfig`      a benchmark: data, methods, seeds and all of the above  ``bench``
========================  =====================================================  ================

A :class:`BenchConfig` resolves what was left unset (the data set's stage-1 preset, the
generator and head defaults of the methods that use them) and refuses a setting that no chosen
method uses, so that ``config.json`` holds exactly the settings a run used. Its ``task``
"classification" (long-tailed classes, seed 002) takes its data and stage 1 from a
:class:`ClassificationConfig` and refuses the regression parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .metrics import CLASS_METRICS as CLASS_METRICS_NAMES
from .metrics import METRICS
from .params import (
    Boolean,
    Interval,
    Nested,
    Optional,
    Options,
    Pattern,
    Sequence,
    SettingError,
    Settings,
    Table,
    Text,
    setting,
)

#: the feature generators by name (:data:`latentdiff.generators.GENERATORS`; each has the
#: settings part of the same name in :class:`SamplerConfig`)
GENERATOR_NAMES = ("diffusion", "gan", "gaussian", "interp", "pogdiff")
#: generators estimated from the features, not trained: nothing to checkpoint, export or fine-tune
UNTRAINED_GENERATORS = ("gaussian", "interp")
MAX_TIMESTEPS = 10_000  # far above any published feature or image diffusion schedule
#: reverse-process samplers of the diffusion model (diffusers schedulers, by name:
#: :data:`latentdiff.generators.diffusion.SCHEDULERS`)
SAMPLERS = ("ddpm", "ddim", "dpm-solver++")

POSITIVE_INT = Interval(int, 1)
NON_NEGATIVE = Interval(float, 0)
POSITIVE = Interval(float, 0, closed="neither")
UNIT_OPEN = Interval(float, 0, 1, closed="left")  # [0, 1)
DEVICE = Pattern(r"cpu|cuda(:[0-9]+)?", "cpu, cuda or cuda:N (N a GPU index)")


# --- stage 1 and stage 7 --------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig(Settings):
    """Optimisation of the network h(f(x)) (stage 1), Adam with a multi-step schedule.

    ``patience`` stops after that many epochs without a better validation score (None: never).
    ``lr_milestones`` multiply the learning rate by 0.1 at those epochs (DIR's [60, 80]).
    ``grad_clip`` bounds the gradient norm (0: no clipping); see docs/design.md.
    """

    epochs: int = setting(100, POSITIVE_INT, "training epochs")
    batch_size: int = setting(256, POSITIVE_INT, "samples per optimiser step")
    lr: float = setting(1e-3, POSITIVE, "Adam learning rate")
    weight_decay: float = setting(0.0, NON_NEGATIVE, "Adam weight decay")
    loss: str = setting("mse", Options("mse", "l1"), "regression loss")
    select_metric: str = setting(
        "mse", Options("mse", "mae"), "validation score of model selection"
    )
    patience: int | None = setting(15, Optional(POSITIVE_INT), "early stopping (epochs)")
    lr_milestones: tuple[int, ...] = setting((), Sequence(Interval(int, 0)), "x0.1 at these epochs")
    grad_clip: float = setting(5.0, NON_NEGATIVE, "gradient norm bound (0: none)")


@dataclass(frozen=True)
class HeadConfig(Settings):
    """Retraining of the linear head on real + synthetic features (stage 7, Fig. 2 of seed 000),
    the encoder frozen; the epoch with the best validation score is kept, as in stage 1.

    ``loss`` and ``select_metric`` left None take the stage-1 network's (L1 and MAE on the face
    age benchmarks). The paper names a mixing schedule r(t) but does not define it; here r(t) is
    the fraction of synthetic samples among those seen in epoch t:

    * ``natural``: every real and every accepted synthetic sample once per epoch;
    * ``constant``: r(t) = ``mix_ratio``;
    * ``linear``: r(t) rises from 0 to ``mix_ratio`` over the epochs (a curriculum).

    ``synthetic_weight`` multiplies the loss of synthetic samples; ``warm_start`` starts from the
    vanilla head instead of a fresh one.
    """

    epochs: int = setting(60, POSITIVE_INT, "head retraining epochs")
    batch_size: int = setting(256, POSITIVE_INT, "samples per optimiser step")
    lr: float = setting(1e-3, POSITIVE, "Adam learning rate")
    weight_decay: float = setting(0.0, NON_NEGATIVE, "Adam weight decay")
    loss: str | None = setting(None, Optional(Options("mse", "l1")), "None: the network's")
    select_metric: str | None = setting(
        None, Optional(Options("mse", "mae")), "None: the network's"
    )
    patience: int | None = setting(15, Optional(POSITIVE_INT), "early stopping (epochs)")
    mix_schedule: str = setting("natural", Options("natural", "constant", "linear"), "r(t)")
    mix_ratio: float = setting(0.2, UNIT_OPEN, "r of the constant and linear schedules")
    synthetic_weight: float = setting(1.0, NON_NEGATIVE, "loss weight of synthetic samples")
    warm_start: bool = setting(True, Boolean(), "start from the trained head")
    #: seed 000's "sample weighting" (Table 2), which the paper names but does not define; our
    #: reading (docs/methods.md, "Sample weighting"): ``priority`` weighs each synthetic sample's
    #: loss by its bin's priority P(y) (eq. 10, the weights of eq. 24), scaled to mean one over
    #: the synthetic samples; ``none`` (default, the behaviour before issue 13): equal weights
    sample_weighting: str = setting(
        "none", Options("none", "priority"), "synthetic loss weights (none, or priority P(y))"
    )

    def train_config(self, network: TrainConfig) -> TrainConfig:
        """The optimisation of the head for a network trained with ``network``."""
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            loss=self.loss or network.loss,
            select_metric=self.select_metric or network.select_metric,
            patience=self.patience,
            grad_clip=0.0,
        )

    def ratio(self, epoch: int) -> float | None:
        """r(t); None for ``natural``."""
        if self.mix_schedule == "natural":
            return None
        if self.mix_schedule == "constant":
            return self.mix_ratio
        return self.mix_ratio * min(epoch / max(self.epochs - 1, 1), 1.0)


@dataclass(frozen=True)
class GeneratorConfig(Settings):
    """What every feature generator's settings hold (:mod:`latentdiff.generators.base` relies on
    them): the length of training, the gradient bound, and the moving average of the weights
    that samples."""

    batch_size: int = setting(256, POSITIVE_INT, "features per optimiser step")
    n_steps: int = setting(2000, POSITIVE_INT, "optimiser steps")
    grad_clip: float = setting(1.0, NON_NEGATIVE, "gradient norm bound (0: none)")
    use_ema: bool = setting(True, Boolean(), "sample with the EMA weights")
    ema_decay: float = setting(0.999, UNIT_OPEN, "EMA decay cap")


# --- generators -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffusionConfig(GeneratorConfig):
    """The feature diffusion model (defaults: seed 000, Table 6; sizes: docs/design.md).

    ``n_steps`` counts optimiser steps; ``grad_clip = 0`` disables clipping. ``ema_decay`` caps
    diffusers' EMA warm-up decay_k = min(ema_decay, (1 + k) / (10 + k)), so 0.999 itself is
    reached only after about 9,000 steps. ``scheduler`` names the reverse-process sampler
    (:data:`latentdiff.generators.diffusion.SCHEDULERS`): ``ddpm`` ancestral sampling (eq. 13,
    22; seed 000's sampler with ``sampling_steps`` None), ``ddim`` (eta = 0) or ``dpm-solver++``
    (2nd-order multistep, the default, in 10 steps), stepping through ``sampling_steps`` of the T
    timesteps with "trailing" spacing (None: all T). Both only change sampling: a trained
    generator can be sampled with another (docs/methods.md, "Samplers").
    """

    # the process (eq. 2-7) and its sampler
    timesteps: int = setting(50, Interval(int, 1, MAX_TIMESTEPS), "T, the diffusion steps")
    schedule: str = setting("cosine", Options("cosine", "linear"), "noise schedule (eq. 4)")
    cosine_s: float = setting(0.008, NON_NEGATIVE, "cosine offset s (eq. 4)")
    prediction: str = setting("v", Options("v", "epsilon"), "network target (eq. 5-7)")
    # DPM-Solver++(2M) in 10 steps: within 2 % of DDPM's 50-step few-shot error on California
    # Housing and STS-B-DIR at a fifth of the network evaluations (docs/methods.md, "Samplers")
    scheduler: str = setting("dpm-solver++", Options(*SAMPLERS), "reverse-process sampler")
    sampling_steps: int | None = setting(
        10, Optional(Interval(int, 1, MAX_TIMESTEPS)), "reverse steps, <= T (None: T)"
    )
    # the denoiser g(z_t, y, t); None: sized from the feature dimension
    # (:func:`latentdiff.generators.diffusion.denoiser_size`)
    hidden_dim: int | None = setting(None, Optional(POSITIVE_INT), "denoiser width (None: auto)")
    n_blocks: int | None = setting(None, Optional(POSITIVE_INT), "residual blocks (None: auto)")
    dropout: float = setting(0.1, UNIT_OPEN, "denoiser dropout")
    embed_dim: int = setting(128, Interval(int, 2), "label and time embedding width (even)")
    # AdamW on eq. 7 (and the settings of every generator, GeneratorConfig)
    lr: float = setting(2e-3, POSITIVE, "AdamW learning rate")
    weight_decay: float = setting(0.0, NON_NEGATIVE, "AdamW weight decay")
    max_epochs: int | None = setting(
        100, Optional(POSITIVE_INT), "at most this many passes over the rows (None: n_steps)"
    )
    # early stopping on a held-out diffusion loss (n_steps is then the cap)
    early_stopping: bool = setting(True, Boolean(), "stop on a held-out eq. 7 loss")
    heldout_fraction: float = setting(
        0.1, Interval(float, 0, 0.5, closed="neither"), "share of each bin's rows held out"
    )
    eval_every: int = setting(50, POSITIVE_INT, "steps between held-out evaluations")
    patience: int = setting(5, POSITIVE_INT, "evaluations without improvement before stopping")
    min_delta: float = setting(
        0.02, Interval(float, 0, 1, closed="left"), "relative loss decrease that is improvement"
    )

    def _check_together(self) -> None:
        if self.embed_dim % 2:
            raise SettingError(
                f"embed_dim = {self.embed_dim} is not allowed: an even integer (sin/cos pairs)"
            )
        steps = self.sampling_steps
        if steps is not None and steps > self.timesteps:
            raise SettingError(
                f"sampling_steps = {steps} is more than timesteps = {self.timesteps}: the "
                f"sampler steps through a subset of the T trained timesteps (use <= "
                f"{self.timesteps}, or None for all)"
            )
        if self.scheduler == "ddim" and steps is not None and self.timesteps % steps:
            raise SettingError(
                f"sampling_steps = {steps} with scheduler 'ddim' is not allowed for timesteps = "
                f"{self.timesteps}: diffusers' DDIMScheduler steps from t to t - T // n, which "
                f"misses the trailing timestep grid unless n divides T (use a divisor of "
                f"{self.timesteps}, or 'dpm-solver++' / 'ddpm', which follow any grid)"
            )


@dataclass(frozen=True)
class PoGDiffConfig(DiffusionConfig):
    """The feature diffusion model trained on PoGDiff's loss (seed 003, eq. 8-13) in v-prediction
    form (:mod:`latentdiff.generators.pogdiff`); every :class:`DiffusionConfig` setting as there.

    ``k_neighbours`` nearest training rows by cosine similarity of their features (eq. 8); the
    weight psi = max(0, s^(a1 + a2 1[other bin])) / (a3 density(bin)) (eq. 9-12), the density
    the LDS-smoothed label density scaled so that 1 / density has mean one over the training rows
    (standing in for the paper's VAE ELBO). ``similarity_term`` / ``density_term`` False drop
    that factor of psi (the paper's Table 5 ablation). Seed 003 gives no values for k, a1-a3;
    the defaults are its footnote-3 example (a1 = a2 = 1) and a3 = 1 (docs/methods.md).
    """

    k_neighbours: int = setting(10, POSITIVE_INT, "neighbours y' is drawn from (eq. 8)")
    a1: float = setting(1.0, NON_NEGATIVE, "similarity exponent, same bin (eq. 9)")
    a2: float = setting(1.0, NON_NEGATIVE, "extra similarity exponent, other bin (eq. 9)")
    a3: float = setting(1.0, POSITIVE, "inverse-density scale (eq. 11)")
    similarity_term: bool = setting(True, Boolean(), "psi has the similarity factor (eq. 9)")
    density_term: bool = setting(True, Boolean(), "psi has the inverse density (eq. 11)")


@dataclass(frozen=True)
class GANConfig(GeneratorConfig):
    """LatentGAN's generator and discriminator (no values in seed 000; see
    :mod:`latentdiff.generators.gan`). ``n_steps`` counts generator steps, each after one
    discriminator step; ``aux_weight`` weighs the auxiliary label regression; ``grad_clip = 0``
    disables clipping."""

    # the generator G(u, y)
    noise_dim: int = setting(64, POSITIVE_INT, "generator input noise")
    hidden_dim: int = setting(512, POSITIVE_INT, "generator width")
    n_blocks: int = setting(3, POSITIVE_INT, "generator residual blocks")
    embed_dim: int = setting(128, POSITIVE_INT, "label embedding width")
    # the discriminator D(z, y) and the auxiliary label loss
    d_hidden_dim: int = setting(512, POSITIVE_INT, "discriminator width")
    d_layers: int = setting(2, POSITIVE_INT, "discriminator layers")
    spectral_norm: bool = setting(True, Boolean(), "spectrally normalised discriminator")
    leaky_slope: float = setting(0.2, UNIT_OPEN, "discriminator LeakyReLU slope")
    aux_weight: float = setting(1.0, NON_NEGATIVE, "auxiliary label loss weight")
    # Adam for each player, one D step per G step (the other settings: GeneratorConfig, with
    # the GAN's own defaults below)
    lr_g: float = setting(2e-4, POSITIVE, "generator Adam learning rate")
    lr_d: float = setting(2e-4, POSITIVE, "discriminator Adam learning rate")
    beta1: float = setting(0.5, UNIT_OPEN, "Adam beta_1")
    beta2: float = setting(0.999, UNIT_OPEN, "Adam beta_2")
    n_steps: int = setting(1000, POSITIVE_INT, "generator steps, each after a D step")
    grad_clip: float = setting(0.0, NON_NEGATIVE, "gradient norm bound (0: none)")


@dataclass(frozen=True)
class GaussianConfig(Settings):
    """The ``gaussian`` generator (:mod:`latentdiff.generators.gaussian`): per generation bin, a
    normal distribution with the mean and the shrunk covariance of the bin's real features. A
    bin with fewer than ``min_rows`` rows borrows rows from its nearest bins by label
    (:func:`latentdiff.generators.empirical.borrowed_rows`)."""

    min_rows: int = setting(
        10,
        Interval(int, 2),
        "rows a bin's mean and covariance need (fewer: borrow from neighbours)",
    )
    shrinkage: str = setting(
        "oas", Options("oas", "ledoit-wolf"), "covariance shrinkage towards a scaled identity"
    )


@dataclass(frozen=True)
class InterpConfig(Settings):
    """The ``interp`` generator (:mod:`latentdiff.generators.interp`): z = z_i + u (z_j - z_i),
    u ~ U(0, 1), for two real features of one generation bin (SMOTE in feature space). A bin with
    fewer than ``min_rows`` rows borrows as ``gaussian`` does."""

    min_rows: int = setting(2, Interval(int, 2), "rows a bin needs (fewer: borrow from neighbours)")
    k_neighbors: int | None = setting(
        5, Optional(POSITIVE_INT), "j among the k nearest rows of i in its bin (None: any row)"
    )


# --- stages 4-6 -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SamplerConfig(Settings):
    """LatentDiff's allocation, generation and gate (seed 000, Table 6 defaults), and the
    settings of the generators it can use (None: their defaults)."""

    n_bins: int = setting(20, POSITIVE_INT, "K, generation bins (eq. 14)")
    ratio: float = setting(0.2, Interval(float, 0, 100), "synthetic / real count")
    priority_weight: float = setting(0.7, Interval(float, 0, 1), "lambda (eq. 9)")
    error_scale: str = setting("max", Options("max", "none"), "scale of e_y in eq. 9")
    gate: bool = setting(True, Boolean(), "Mahalanobis quality gate (eq. 11)")
    quantile: float = setting(0.95, Interval(float, 0, 1, closed="right"), "gate percentile q")
    n_min: int = setting(5, Interval(int, 2), "gate n_min")
    small_bin_rule: str = setting("pool", Options("pool", "accept", "reject"), "bins < n_min")
    empty_bins: str = setting(
        "skip", Options("skip", "interp"), "empty generation bins inside the label range"
    )
    checkpoint_every: int = setting(250, POSITIVE_INT, "generator steps between checkpoints")
    diffusion: DiffusionConfig | None = setting(None, Optional(Nested(DiffusionConfig)), "")
    gan: GANConfig | None = setting(None, Optional(Nested(GANConfig)), "")
    gaussian: GaussianConfig | None = setting(None, Optional(Nested(GaussianConfig)), "")
    interp: InterpConfig | None = setting(None, Optional(Nested(InterpConfig)), "")
    pogdiff: PoGDiffConfig | None = setting(None, Optional(Nested(PoGDiffConfig)), "")
    generator: str | None = setting(
        None,
        Optional(Options(*GENERATOR_NAMES)),
        "generator of latentdiff, latentdiff-tuned (None: diffusion; tuned: its choice)",
    )
    generator_from: str | None = setting(
        None, Optional(Text()), "pretrained generator: an exported file or a run directory"
    )
    fine_tune: str = setting("full", Options("full", "head"), "with generator_from: what trains")
    stream_dir: str | None = setting(
        None, Optional(Text()), "write accepted synthetic features to a .npy file in this folder"
    )
    stream_chunk: int = setting(4096, POSITIVE_INT, "with stream_dir: rows generated per chunk")
    #: how the ratio's synthetic count is spread over the generation bins: ``priority`` by eq.
    #: 9-10, ``uniform`` the same count in every bin that has real samples (seed 000, Table 2,
    #: "Uniform generation"; :func:`latentdiff.augment.uniform_allocation`)
    allocation: str = setting("priority", Options("priority", "uniform"), "allocation over bins")

    def _check_together(self) -> None:
        from pathlib import Path

        if self.fine_tune != "full" and self.generator_from is None:
            raise SettingError(
                f"fine_tune = {self.fine_tune!r} is set but there is nothing to fine-tune: it "
                f"applies with generator_from (--generator-from)"
            )
        if self.generator_from is not None and self.generator in UNTRAINED_GENERATORS:
            raise SettingError(
                f"generator_from is set but generator = {self.generator!r} has nothing trained to "
                f"start from: it is estimated from the features in one pass (drop --generator-from)"
            )
        if self.generator_from is not None and not Path(self.generator_from).exists():
            raise SettingError(
                f"generator_from = {self.generator_from!r} is not allowed: no such file or run "
                f"directory"
            )


# --- choosing on validation (latentdiff-tuned, auto) ----------------------------------------------
#: CoDSA's allocation vectors over the shot regions (seed 001, eq. 1 and 5), by name: the share of
#: the synthetic samples that goes to (many, medium, few); "balanced" is eq. 5's choice, which
#: tops every region up towards the same augmented count
REGION_ALLOCATIONS: dict[str, tuple[float, float, float] | None] = {
    "balanced": None,
    "few": (0.0, 0.0, 1.0),
    "medium+few": (0.0, 0.5, 0.5),
    "uniform": (1 / 3, 1 / 3, 1 / 3),
}


@dataclass(frozen=True)
class TuneConfig(Settings):
    """The candidates ``latentdiff-tuned`` chooses among on the validation split (CoDSA, seed
    001, sec. 2.2: the ratio m/n, the allocation vector w and the split ratio, tuned on held-out
    data), searched one axis after another (:mod:`latentdiff.tuning`).

    The allocation families are LatentDiff's priority (eq. 9) at each ``priority_weights``
    lambda and CoDSA's region vectors ``region_allocations`` (:data:`REGION_ALLOCATIONS`).
    ``splits`` are CoDSA's split ratios (the generator's share of the training rows; the head
    is retrained on the rest plus synthetic features); "no split" is always a candidate. None
    by default: each split ratio costs a second generator fit and pool, and on California
    Housing split 0.7 scored no better than no split (docs/methods.md).
    ``metric`` None: the network's selection metric (MSE, or MAE where the data set's protocol
    uses MAE), averaged over the validation split's label bins.
    """

    ratios: tuple[float, ...] = setting(
        (0.1, 0.25, 0.5, 1.0),
        Sequence(Interval(float, 0, 100, closed="right"), 1, True),
        "synthetic / real counts m/n (0, no synthetic feature, is always a candidate)",
    )
    priority_weights: tuple[float, ...] = setting(
        (0.3, 0.7, 1.0), Sequence(Interval(float, 0, 1), 0, True), "lambda (eq. 9) candidates"
    )
    region_allocations: tuple[str, ...] = setting(
        ("balanced", "few", "medium+few"),
        Sequence(Options(*REGION_ALLOCATIONS), 0, True),
        "CoDSA allocation vectors over many / medium / few",
    )
    quantiles: tuple[float, ...] = setting(
        (0.9, 0.95, 0.99),
        Sequence(Interval(float, 0, 1, closed="right"), 0, True),
        "gate percentile q candidates",
    )
    gate_off: bool = setting(True, Boolean(), "no gate is a candidate too")
    synthetic_weights: tuple[float, ...] = setting(
        (0.5, 1.0, 2.0), Sequence(POSITIVE, 1, True), "loss weight of synthetic samples"
    )
    splits: tuple[float, ...] = setting(
        (),
        Sequence(Interval(float, 0.1, 0.9), 0, True),
        "CoDSA split ratios (generator's share); no split is always a candidate",
    )
    generators: tuple[str, ...] = setting(
        ("diffusion", "gaussian", "interp"),
        Sequence(Options(*GENERATOR_NAMES), 1, True),
        "feature generators to choose among (the first is searched in full; --generator: one)",
    )
    metric: str | None = setting(None, Optional(Options("mse", "mae")), "None: the network's")

    def _check_together(self) -> None:
        if not self.priority_weights and not self.region_allocations:
            raise SettingError(
                "priority_weights and region_allocations are both empty: no allocation to try"
            )


@dataclass(frozen=True)
class AutoConfig(Settings):
    """How ``auto`` chooses a method on validation, and its guard against the winner's curse
    (:mod:`latentdiff.methods.auto`): a candidate replaces vanilla only if a stratified bootstrap
    of the validation split finds it better on the bin-averaged criterion with probability at
    least ``confidence`` and its all-sample validation error is, at the ``confidence`` bound, at
    most ``all_margin`` worse than vanilla's."""

    candidates: tuple[str, ...] = setting(
        ("vanilla", "sqinv", "lds", "rrt", "latentdiff-tuned", "latentdiff-tuned+WEIGHTING"),
        Sequence(Text(), 1, True),
        "methods to choose among (+WEIGHTING: the best of sqinv and lds on validation)",
    )
    confidence: float = setting(0.9, Interval(float, 0.5, 1, closed="left"), "bootstrap level")
    all_margin: float = setting(0.02, NON_NEGATIVE, "all-sample error allowed above vanilla's")
    n_bootstrap: int = setting(1000, Interval(int, 100), "bootstrap resamples")
    guard: bool = setting(True, Boolean(), "False: the lowest validation score wins")
    metric: str | None = setting(None, Optional(Options("mse", "mae")), "None: the network's")


# --- data -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataConfig(Settings):
    """A data set by name and the loader parameters that apply to it
    (:data:`latentdiff.data.registry.LOADERS` says which; others are refused)."""

    dataset: str = setting("diamonds", Text(), "the data set's name")
    data: str | None = setting(None, Optional(Text()), "file or folder to read")
    target: str | None = setting(None, Optional(Text()), "target column of a table")
    image_root: str | None = setting(None, Optional(Text()), "folder of an age CSV's images")
    regions: str | None = setting(
        None, Optional(Options("dir", "latentdiff", "official")), "shot rule (None: the set's)"
    )
    max_train: int | None = setting(None, Optional(POSITIVE_INT), "training subsample")
    eval_bins: int | None = setting(None, Optional(POSITIVE_INT), "evaluation bins")
    missing: str | None = setting(
        None, Optional(Options("impute", "refuse")), "missing feature values (None: impute)"
    )
    zero_shot: str | None = setting(
        None, Optional(Text()), "zero-shot label ranges, e.g. 'interp=2.4:3.1,extrap=4.2:'"
    )

    def _check_together(self) -> None:
        from .data.registry import check_loader_parameters

        check_loader_parameters(self.dataset, self.given())
        self._check_zero_shot()

    def _check_zero_shot(self) -> None:
        """A malformed zero-shot specification, refused where it enters (the rules that need
        the labels are checked when the data set loads, before any training)."""
        if self.zero_shot is not None:
            from .zeroshot import parse_spec

            try:
                parse_spec(self.zero_shot)
            except ValueError as e:
                raise SettingError(f"zero_shot = {self.zero_shot!r}: {e}") from None

    def given(self) -> dict:
        """The loader parameters that were set (not None)."""
        return {k: v for k, v in self.to_dict().items() if k != "dataset" and v is not None}


@dataclass(frozen=True)
class Preset:
    """Per-data-set defaults: the table's metrics and the stage-1 optimisation."""

    metrics: tuple[str, ...]
    train: TrainConfig


PRESETS: dict[str, Preset] = {
    "diamonds": Preset(("mae", "mse", "r2"), TrainConfig(epochs=60, patience=10)),
    "california-housing": Preset(("mse", "r2"), TrainConfig(epochs=100, patience=15)),
    "csv": Preset(("mae", "mse", "r2"), TrainConfig(epochs=100, patience=15)),
    "stsb-dir": Preset(("mse", "pearson"), TrainConfig(epochs=30, batch_size=128, patience=5)),
    "agedb-dir": Preset(
        ("mae", "gm"),
        TrainConfig(epochs=90, loss="l1", select_metric="mae", lr_milestones=(60, 80)),
    ),
    "imdb-wiki-dir": Preset(
        ("mae", "gm"),
        TrainConfig(epochs=90, loss="l1", select_metric="mae", lr_milestones=(60, 80)),
    ),
}


# --- the classification task (LDMLR, seed 002) ---------------------------------------------------
#: the named data sets of ``task = "classification"``: (encoder, stage-1 epochs, imbalance
#: factor); ``csv`` is any table with a class column, its own profile kept unless told
#: (:mod:`latentdiff.classification.loaders`)
CLASS_DATASETS: dict[str, tuple[str, int, float | None]] = {
    "mnist-lt": ("cnn", 30, 100.0),
    "digits-lt": ("mlp", 60, 10.0),
    "csv": ("mlp", 60, None),
}
#: the tasks a benchmark runs (:attr:`BenchConfig.task`)
TASKS = ("regression", "classification")
#: the ``target`` choices of LDMLR's generation (seed 002, Table 4)
LDMLR_TARGETS = ("all", "many", "medium", "few", "tail")
#: LDMLR's generator and its controls (:data:`latentdiff.classification.methods.GENERATORS`)
LDMLR_GENERATORS = ("diffusion", "gaussian", "resample")


@dataclass(frozen=True)
class LDMLRDiffusionConfig(DiffusionConfig):
    """LDMLR's class-conditional feature diffusion (seed 002, sec. 3.3 and 4.1): every
    :class:`DiffusionConfig` setting, with seed 002's choices as defaults: epsilon prediction
    (eq. 10) on a linear beta schedule, sampled by eq. 11 at eta = 1 (the ``ddpm`` sampler over
    all T = 50 steps), Adam at 1e-3 for at most 200 epochs (the same values as
    :data:`latentdiff.classification.class_diffusion.LDMLR_DIFFUSION`, a test checks)."""

    timesteps: int = setting(50, Interval(int, 1, MAX_TIMESTEPS), "T, the diffusion steps")
    schedule: str = setting("linear", Options("cosine", "linear"), "noise schedule")
    prediction: str = setting("epsilon", Options("v", "epsilon"), "network target (eq. 10)")
    scheduler: str = setting("ddpm", Options(*SAMPLERS), "reverse-process sampler (eq. 11)")
    sampling_steps: int | None = setting(
        None, Optional(Interval(int, 1, MAX_TIMESTEPS)), "reverse steps, <= T (None: T)"
    )
    lr: float = setting(1e-3, POSITIVE, "learning rate (seed 002: Adam at 1e-3)")
    n_steps: int = setting(3000, POSITIVE_INT, "optimiser steps (the cap)")
    max_epochs: int | None = setting(
        200, Optional(POSITIVE_INT), "at most this many passes over the rows (seed 002: 200)"
    )


@dataclass(frozen=True)
class LDMLRConfig(Settings):
    """LDMLR's stages 2-3 (seed 002): what to generate (``target`` classes, Table 4; ``ratio``
    of generated to encoded features, Figure 2), what trains the head (``use``: ``both`` or
    ``generated`` only, Table 5), eq. 13's ``gamma``, the head fine-tuning's learning rate and
    epochs (also those of the ``ce-ft`` and ``crt`` controls), and the diffusion model."""

    target: str = setting(
        "tail", Options(*LDMLR_TARGETS), "classes generated for (Table 4; tail: the rarest region)"
    )
    ratio: float = setting(
        0.2, Interval(float, 0, 100, closed="right"), "generated / encoded features (Figure 2)"
    )
    use: str = setting("both", Options("both", "generated"), "features the head trains on")
    generator: str = setting(
        "diffusion", Options(*LDMLR_GENERATORS), "seed 002's diffusion, or a control generator"
    )
    gamma: float = setting(0.05, NON_NEGATIVE, "weight of the generated term (eq. 13)")
    lr: float = setting(5e-4, POSITIVE, "head fine-tuning Adam learning rate")
    epochs: int = setting(20, POSITIVE_INT, "head fine-tuning epochs")
    diffusion: LDMLRDiffusionConfig | None = setting(
        None, Optional(Nested(LDMLRDiffusionConfig)), "the diffusion model (None: seed 002's)"
    )

    def _check_together(self) -> None:
        if self.diffusion is None:
            object.__setattr__(self, "diffusion", LDMLRDiffusionConfig())


@dataclass(frozen=True)
class ClassificationConfig(Settings):
    """The data and stage 1 of ``task = "classification"`` (:mod:`latentdiff.classification`):
    a named long-tailed set (``mnist-lt`` from ``data``, the MNIST t10k folder; ``digits-lt``)
    or ``csv`` (``data`` a table, ``target`` its class column, classes read as they are);
    ``imbalance_factor`` n_max / n_min of the exponential training profile (None: the set's,
    :data:`CLASS_DATASETS`; a table keeps its own); the encoder and its cross-entropy training
    (None: the set's); ``ldmlr``: stages 2-3, resolved when a chosen method uses them."""

    dataset: str = setting("digits-lt", Options(*CLASS_DATASETS), "long-tailed data set")
    data: str | None = setting(None, Optional(Text()), "file or folder to read")
    target: str | None = setting(None, Optional(Text()), "class column of a table")
    imbalance_factor: float | None = setting(
        None, Optional(Interval(float, 1)), "n_max / n_min of the training profile"
    )
    encoder: str | None = setting(None, Optional(Options("cnn", "mlp")), "None: the set's")
    epochs: int | None = setting(None, Optional(POSITIVE_INT), "stage-1 epochs (None: the set's)")
    lr: float = setting(1e-3, POSITIVE, "stage-1 Adam learning rate")
    ldmlr: LDMLRConfig | None = setting(None, Optional(Nested(LDMLRConfig)), "stages 2-3")

    def _check_together(self) -> None:
        name = self.dataset
        if name == "csv" and (self.data is None or self.target is None):
            raise SettingError("dataset 'csv' needs data (a table) and target (its class column)")
        if name == "mnist-lt" and self.data is None:
            raise SettingError("dataset 'mnist-lt' needs data, the folder of the MNIST t10k files")
        if name == "digits-lt" and self.data is not None:
            raise SettingError("data is set but 'digits-lt' is scikit-learn's bundled digits")
        if name != "csv" and self.target is not None:
            raise SettingError(f"target is set but {name!r} has its own labels (target: a table)")
        encoder, epochs, imbalance = CLASS_DATASETS[name]
        if self.encoder is not None and self.encoder != encoder:
            raise SettingError(
                f"encoder = {self.encoder!r} is not allowed for {name!r}: its inputs take "
                f"{encoder!r} (cnn: images, mlp: vectors)"
            )
        set_ = object.__setattr__
        set_(self, "encoder", encoder)
        set_(self, "epochs", self.epochs or epochs)
        if self.imbalance_factor is None:
            set_(self, "imbalance_factor", imbalance)


# --- a benchmark ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchConfig(Settings):
    """Everything a benchmark run depends on; written whole to ``config.json``.

    Unset parts are resolved when it is built: ``train`` and ``table_metrics`` from the data
    set's :data:`PRESETS`, ``sampler`` (with its generator's settings) and ``head`` from their
    defaults when a chosen method uses them. A part that no chosen method uses is refused, so
    that a setting is never silently ignored.
    """

    #: config.json layout; older run directories cannot be resumed. 3 (issue 11): the diffusion
    #: settings gained early stopping and the sampler's steps, whose new defaults would otherwise
    #: fill in what an older directory never had
    FORMAT: ClassVar[int] = 3

    data: DataConfig | None = setting(
        None, Optional(Nested(DataConfig)), "the data set (None: given to run_bench in Python)"
    )
    methods: tuple[str, ...] = setting(
        ("vanilla", "latentdiff"), Sequence(Text(), min_len=1, unique=True), "methods to run"
    )
    method_options: dict = setting(None, Optional(Table()), "options per method component")
    seeds: tuple[int, ...] = setting((0, 1, 2), Sequence(Interval(int, 0), 1, True), "seeds")
    encoder: str | None = setting(None, Optional(Text()), "encoder (None: the data set's default)")
    encoder_options: dict = setting(None, Optional(Table()), "encoder keyword arguments")
    train: TrainConfig | None = setting(None, Optional(Nested(TrainConfig)), "stage 1")
    sampler: SamplerConfig | None = setting(None, Optional(Nested(SamplerConfig)), "stages 4-6")
    head: HeadConfig | None = setting(None, Optional(Nested(HeadConfig)), "stage 7")
    table_metrics: tuple[str, ...] | None = setting(
        None,
        Optional(Sequence(Options(*METRICS, *CLASS_METRICS_NAMES), 1, True)),
        "metrics of results.md",
    )
    progress: bool = setting(True, Boolean(), "progress bars (not part of the results)")
    #: where every stage runs (network, generator, gate, head): :mod:`latentdiff.device`
    device: str = setting("cpu", DEVICE, "where every stage runs: cpu, cuda or cuda:N")
    #: the feature-quality analysis (issue 13): rows per side of the real and synthetic feature
    #: sample each LatentDiff-family (method, seed) keeps (:mod:`latentdiff.analysis.sample`)
    analysis_rows: int = setting(
        2000, Interval(int, 0), "rows per side of the analysis feature sample (0: none kept)"
    )
    #: the task: regression (the default; every setting above) or long-tailed classification
    #: (LDMLR, seed 002: ``classification`` holds its data and stages)
    task: str = setting("regression", Options(*TASKS), "regression or classification")
    classification: ClassificationConfig | None = setting(
        None, Optional(Nested(ClassificationConfig)), "the classification task's settings"
    )

    def _check_together(self) -> None:
        if self.task == "classification":
            self._check_classification()
            return
        if self.classification is not None:
            raise SettingError(
                "classification is set but task = 'regression' (--task classification uses it)"
            )
        set_ = object.__setattr__
        set_(self, "method_options", dict(self.method_options or {}))
        set_(self, "encoder_options", dict(self.encoder_options or {}))
        preset = PRESETS.get(self.data.dataset if self.data else "csv", PRESETS["csv"])
        if self.train is None:
            set_(self, "train", preset.train)
        if self.table_metrics is None:
            set_(self, "table_metrics", preset.metrics)
        if set(self.table_metrics) & set(CLASS_METRICS_NAMES):
            raise SettingError(
                f"table_metrics = {list(self.table_metrics)} is not allowed with task "
                f"'regression': accuracy and macro_f1 are classification metrics"
            )
        self._check_encoder()
        uses = self._method_uses()
        set_(self, "head", self._resolved(self.head, "head", HeadConfig, uses))
        sampler = self._resolved(self.sampler, "sampler", SamplerConfig, uses)
        if sampler is not None:
            generators = (("diffusion", DiffusionConfig), ("gan", GANConfig),
                          ("gaussian", GaussianConfig), ("interp", InterpConfig),
                          ("pogdiff", PoGDiffConfig))  # fmt: skip
            parts = {p: self._resolved(getattr(sampler, p), f"sampler.{p}", cls, uses)
                     for p, cls in generators}  # fmt: skip
            sampler = sampler.replace(**parts)
        set_(self, "sampler", sampler)

    def _check_classification(self) -> None:
        """``task = "classification"``: the regression parts refused by name, the methods those
        of :data:`latentdiff.classification.methods.CLASS_METHODS`, the table's metrics accuracy
        and macro-F1, and LDMLR's settings resolved when a chosen method uses them."""
        from .classification.methods import CLASS_METHODS, check_methods  # torch: here only

        set_ = object.__setattr__
        for name in ("data", "encoder", "train", "sampler", "head"):
            if getattr(self, name) is not None:
                raise SettingError(_regression_only(name))
        for name in ("method_options", "encoder_options"):
            if getattr(self, name):
                raise SettingError(_regression_only(name))
            set_(self, name, {})
        if self.device != "cpu":
            raise SettingError(
                f"device = {self.device!r} is not allowed with task 'classification': it runs on "
                f"the CPU (cpu)"
            )
        metrics = self.table_metrics or CLASS_METRICS_NAMES
        bad = [m for m in metrics if m not in CLASS_METRICS_NAMES]
        if bad:
            raise SettingError(f"table_metrics = {bad[0]!r} is not a classification metric "
                               f"({', '.join(CLASS_METRICS_NAMES)})")  # fmt: skip
        set_(self, "table_metrics", tuple(metrics))
        for name in self.methods:
            if name not in CLASS_METHODS and _is_regression_method(name):
                raise SettingError(f"{name!r} is a regression method; task 'classification' "
                                   f"runs {', '.join(CLASS_METHODS)}")  # fmt: skip
            try:
                check_methods([name])  # <base>+ldmlr for any base, ce+ldmlr = ldmlr
            except ValueError as e:
                raise SettingError(str(e)) from None
        c = self.classification or ClassificationConfig()
        uses = [m for m in self.methods if m not in LDMLR_NON_USERS]
        if c.ldmlr is None and uses:
            c = c.replace(ldmlr=LDMLRConfig())
        if c.ldmlr is not None and not uses:
            raise SettingError(
                f"classification.ldmlr is set but none of the methods {', '.join(self.methods)} "
                f"uses it (it applies to ldmlr, every <base>+ldmlr, ce-ft, crt and wcdas); drop "
                f"it or add such a method"
            )
        set_(self, "classification", c)

    def _method_uses(self) -> dict[str, list[str]]:
        """Which parts of the configuration each chosen method uses: {part: [methods]}."""
        from .methods import get_method  # the registry imports torch: only when checking methods

        for name in self.methods:
            if _is_classification_method(name):
                raise SettingError(
                    f"{name!r} is a classification method (seed 002, LDMLR): run it with "
                    f"--task classification"
                )
        components = {p.strip().lower() for m in self.methods for p in m.split("+")}
        unused = sorted(set(self.method_options) - components)
        if unused:
            raise SettingError(
                f"method_options.{unused[0]} is set but no chosen method has the component "
                f"{unused[0]!r} (methods: {', '.join(self.methods)})"
            )
        uses: dict[str, list[str]] = {}
        chosen = None if self.sampler is None else self.sampler.generator
        for name in self.methods:
            method = get_method(name, self.options_for(name))
            try:  # the generators it fits: each uses the sampler's settings part of its name
                generators = method.generators(chosen)
            except ValueError as e:
                raise SettingError(f"sampler.generator = {chosen!r} is not allowed: {e}") from None
            untrained = [g for g in generators if g in UNTRAINED_GENERATORS]
            if self.sampler is not None and self.sampler.generator_from and untrained:
                raise SettingError(
                    f"sampler.generator_from is set but {name} uses the {untrained[0]} generator, "
                    f"which is estimated from the features in one pass: it has nothing trained to "
                    f"start from (drop --generator-from, or run it apart from {name})"
                )
            for part in dict.fromkeys([*method.uses, *generators]):
                uses.setdefault(part, []).append(name)
        return uses

    def _resolved(self, value, name: str, cls: type, uses: dict):
        """A part of the configuration (``name``: its path) as the chosen methods need it: its
        defaults when one uses it and it was left unset, refused when it is set and none does."""
        part = name.rpartition(".")[2]
        if value is None and part in uses:
            return cls()
        if value is not None and part not in uses:
            raise SettingError(_unused(name, part, self.methods))
        return value

    def _check_encoder(self) -> None:
        """Resolve the data set's default encoder and check the encoder's options (a data set
        given in Python gets its modality's default when the run starts)."""
        from .data.registry import LOADERS
        from .encoders import DEFAULT_ENCODER, make_encoder

        if self.encoder is None and self.data is not None:
            modality = LOADERS[self.data.dataset].modality
            object.__setattr__(self, "encoder", DEFAULT_ENCODER[modality])
        if self.encoder is None:
            return

        make_encoder(self.encoder, **self.encoder_options)  # refuses an unknown name or option

    @property
    def criterion(self) -> str | None:
        """The error the validation choices (``latentdiff-tuned``, ``auto``) average over bins:
        the table's headline metric (MAE on CSV tables, diamonds and ages, MSE on California
        Housing and STS-B-DIR) when it is MSE or MAE; None: the network's selection metric."""
        first = self.table_metrics[0]
        return first if first in ("mse", "mae") else None

    def options_for(self, method: str) -> dict:
        """The ``method_options`` entries of the components of ``method`` (``a+b``)."""
        parts = {p.strip().lower() for p in method.split("+")}
        return {k: v for k, v in self.method_options.items() if k in parts}

    def comparable(self) -> dict:
        """What the results depend on (all but ``progress``), as JSON reads it back."""
        d = self.to_dict()
        d.pop("progress")
        return d


#: the classification methods that use no :class:`LDMLRConfig` setting (every other one does:
#: LDMLR, and ce-ft, crt and wcdas, whose heads train for its ``epochs``)
LDMLR_NON_USERS = ("ce", "label-shift", "cb")


def _regression_only(name: str) -> str:
    return (
        f"{name} is set but task = 'classification' does not use it (a regression setting): "
        f"drop it, or run the regression task"
    )


def _is_classification_method(name: str) -> bool:
    """A method of the classification task and not of the regression one (``a+b``: any part)."""
    from .classification.methods import CLASS_METHODS
    from .methods import METHODS

    parts = [p.strip().lower() for p in name.split("+")]
    return name in CLASS_METHODS or any(p in CLASS_METHODS and p not in METHODS for p in parts)


def _is_regression_method(name: str) -> bool:
    from .methods import METHODS

    return any(p.strip().lower() in METHODS for p in name.split("+"))


#: which methods use each part of the configuration, for the message when none does
_USERS = {
    "sampler": "latentdiff, latentdiff-gaussian, latentdiff-interp, latentgan or pogdiff",
    "diffusion": "latentdiff or latentdiff-tuned",
    "gan": "latentgan",
    "gaussian": "latentdiff-gaussian (or --generator gaussian)",
    "interp": "latentdiff-interp (or --generator interp)",
    "pogdiff": "pogdiff (or --generator pogdiff)",
    "head": "latentdiff, latentgan, rrt or retrain-head",
}


def _unused(name: str, part: str, methods) -> str:
    if part in GENERATOR_NAMES:  # which generators a method fits depends on --generator too
        return (
            f"{name} is set but none of the methods {', '.join(methods)} fits the {part} "
            f"generator with this sampler.generator (it applies to {_USERS[part]}); drop it, "
            f"or choose a method or --generator that uses it"
        )
    return (
        f"{name} is set but none of the methods {', '.join(methods)} uses it (it applies to "
        f"{_USERS[part]}); drop it or add such a method"
    )
