"""LatentDiff with its settings chosen on validation: CoDSA's tuning (seed 001, sec. 2.2,
Algorithm 1) over LatentDiff's stages 3-7 (seed 000).

Seed 000 sets the synthetic-to-real ratio, the priority weight lambda and the gate quantile by
hand and names that as its own limitation (sec. 7); seed 001 chooses the ratio m/n, an
allocation vector over user regions and a split ratio on held-out data. Here:

1. The network is trained once (the vanilla one, or the one of the methods it is combined with).
2. Each candidate generator (``TuneConfig.generators``: the diffusion model, the per-bin
   Gaussian and per-bin interpolation by default) is fitted once on all training features (the
   chosen one once more per CoDSA split ratio, on that share of the rows), and a *pool* of
   synthetic features is generated once per generator: for every generation bin as many as the
   largest candidate ratio under any candidate allocation asks for. A candidate takes the first
   ``requested`` features of each bin's pool, so candidates of one generator are nested subsets
   of one draw and differ only by their settings, not by generation noise. The pools and the
   gate's distances are cached in the generator's folder, one folder per generator.
3. Each candidate retrains the head (stage 7, the same procedure as ``latentdiff``) and is
   scored on the validation split by the bin-averaged error (:func:`bin_balanced_error`).
4. The search goes one axis at a time (coordinate search): ratio x allocation first with the
   first generator (the axes that interact most, seed 001 Fig. 2), then generator x ratio (every
   other generator at each ratio under the allocation chosen so far: a generator whose features
   are worse wants fewer of them), then the gate quantile (and no gate), then the synthetic
   sample weight, then each split ratio with the ratio axis again. Ratio 0, the head
   retrained on real features only, is a candidate, so the tuned method can decline to use
   synthetic features at all.

Every candidate's score is written to a JSON file as soon as it is known; a resumed run skips
the scored ones and only retrains the chosen candidate's head (bit-identical on CPU).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .augment import allocate, priority
from .binning import REGIONS
from .device import device_of
from .io import atomic_write_text, fingerprint, load_state, save_state
from .metrics import bin_balanced_error
from .samplers import LatentDiffSampler
from .settings import REGION_ALLOCATIONS, HeadConfig, SamplerConfig, TuneConfig
from .training import RegressionModel, TrainResult, fit_head, predict_from_features


@dataclass(frozen=True)
class Candidate:
    """One setting of the search. ``allocation``: ``priority:LAMBDA`` or a name of
    :data:`latentdiff.settings.REGION_ALLOCATIONS`; ``quantile`` None: no gate; ``split`` None:
    no split; ``generator`` None: none (ratio 0, the baseline)."""

    ratio: float
    allocation: str
    quantile: float | None
    synthetic_weight: float
    split: float | None = None
    generator: str | None = None

    @property
    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def allocation_names(tune: TuneConfig) -> list[str]:
    return [f"priority:{w:g}" for w in tune.priority_weights] + list(tune.region_allocations)


def bin_regions(bin_of_real: np.ndarray, region_of_real: np.ndarray, n_bins: int) -> np.ndarray:
    """The shot region of each generation bin: the region most of its real training samples are
    in (ties go to the rarer region); None for an empty bin."""
    out = np.full(n_bins, None, dtype=object)
    for k in range(n_bins):
        r = region_of_real[bin_of_real == k]
        if r.size:
            counts = [int((r == name).sum()) for name in REGIONS]
            out[k] = REGIONS[len(REGIONS) - 1 - int(np.argmax(counts[::-1]))]
    return out


def requested_counts(
    allocation: str, n_total: int, sampler: LatentDiffSampler, regions_of_bins: np.ndarray
) -> np.ndarray:
    """Synthetic samples per generation bin for ``n_total`` samples under ``allocation``.

    * ``priority:LAMBDA``: eq. 9-10 of seed 000 with that lambda (``allocate``);
    * a region vector w (seed 001, eq. 1): region r gets the share w_r, spread evenly over its
      generation bins that hold real samples; the share of a region without such a bin goes to
      the others in proportion;
    * ``balanced`` (seed 001, eq. 5, with the evaluation distribution uniform over regions): each
      present region is topped up towards (n + m) / R samples, m_r = max(0, (n + m)/R - n_r),
      normalised to m.
    """
    counts = sampler.bin_counts_
    if allocation.startswith("priority:"):
        lam = float(allocation.split(":", 1)[1])
        fill = getattr(sampler, "fill_", None)  # a sampler fitted before empty_bins: none
        p = priority(sampler.bin_errors_, counts, lam, sampler.error_scale, fill=fill)
        return allocate(p, n_total)
    present = [r for r in REGIONS if np.any((regions_of_bins == r) & (counts > 0))]
    if allocation == "balanced":
        n_r = np.array([counts[regions_of_bins == r].sum() for r in present], dtype=np.float64)
        deficit = np.maximum((n_r.sum() + n_total) / len(present) - n_r, 0.0)
        w = (
            deficit / deficit.sum()
            if deficit.sum() > 0
            else np.full(len(present), 1 / len(present))
        )
    else:
        vector = dict(zip(REGIONS, REGION_ALLOCATIONS[allocation], strict=True))
        w = np.array([vector[r] for r in present], dtype=np.float64)
        w = w / w.sum() if w.sum() > 0 else np.full(len(present), 1 / len(present))
    p = np.zeros(counts.size)
    for share, r in zip(w, present, strict=True):
        members = (regions_of_bins == r) & (counts > 0)
        p[members] = share / members.sum()
    return allocate(p / p.sum(), n_total)


@dataclass
class Pool:
    """Synthetic features generated once for every candidate: bin ``b`` holds rows
    ``start[b] : start[b] + size[b]`` of ``Z``; ``distance`` is each row's gate distance."""

    Z: np.ndarray
    y: np.ndarray
    bin: np.ndarray
    distance: np.ndarray
    start: np.ndarray
    size: np.ndarray

    def take(self, requested: np.ndarray) -> np.ndarray:
        """Row indices of the first ``requested[b]`` features of each bin."""
        if np.any(requested > self.size):
            raise ValueError("a candidate asks for more features than the pool holds")
        return np.concatenate(
            [self.start[b] + np.arange(n) for b, n in enumerate(requested) if n]
            or [np.empty(0, np.int64)]
        ).astype(np.int64)


@dataclass
class _Part:
    """The generator side of one split: its sampler, pool and the real rows the head sees."""

    sampler: LatentDiffSampler
    pool: Pool
    real: np.ndarray  # indices of the training rows the head is retrained on
    regions_of_bins: np.ndarray
    seconds: float


@dataclass
class TuningResult:
    model: RegressionModel
    head_result: TrainResult
    chosen: Candidate
    Z_syn: np.ndarray
    y_syn: np.ndarray
    sampler: LatentDiffSampler
    report: dict
    seconds: dict = field(default_factory=dict)
    per_bin: list = field(default_factory=list)


class Tuner:
    """The search of :mod:`latentdiff.tuning` on one trained network (a ``VanillaFit``).

    ``cache_dir``: a folder for the scores (``KEY.json``, read back on resume);
    ``generator_dir``: where the generators keep their training checkpoints and the pools are
    cached (None: nothing kept)."""

    def __init__(
        self,
        net,
        sampler: SamplerConfig,
        head: HeadConfig,
        tune: TuneConfig,
        seed: int,
        progress: bool = False,
        cache_dir: Path | None = None,
        generator_dir: Path | None = None,
        criterion: str | None = None,
    ):
        self.net, self.sampler_config, self.head, self.tune = net, sampler, head, tune
        self.seed, self.generators, self.progress = int(seed), tune.generators, progress
        self.generator_dir = generator_dir
        self.metric = tune.metric or criterion or net.train.select_metric
        ds = net.dataset
        # the trained network itself (its weights), not its recipe: a network trained with other
        # hook options is another network
        weights = [net.model.state_dict()[k] for k in sorted(net.model.state_dict())]
        self.key = fingerprint(
            "tuning", ds.fingerprint(), *weights, [type(h).__name__ for h in net.hooks],
            sampler.to_dict(), head.to_dict(), tune.to_dict(), self.seed, self.metric,
        )  # fmt: skip
        self.cache = None if cache_dir is None else Path(cache_dir) / f"{self.key[:16]}.json"
        self.scores: dict[str, float] = self._load_scores()
        self.log: list[dict] = []
        self.head_seconds = 0.0
        self.n_heads = 0

    # --- persistence ------------------------------------------------------------------------
    def _load_scores(self) -> dict[str, float]:
        if self.cache is None or not self.cache.exists():
            return {}
        saved = json.loads(self.cache.read_text())
        return saved["scores"] if saved.get("key") == self.key else {}

    def _save_scores(self) -> None:
        if self.cache is not None:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.cache, json.dumps({"key": self.key, "scores": self.scores}))

    # --- the generator side -----------------------------------------------------------------
    def _split_rows(self, split: float | None, bins) -> tuple[np.ndarray, np.ndarray]:
        """(generator rows, head rows): all and all without a split; with one, each evaluation
        bin's rows divided at random in the ratio ``split`` (stratified, so that a rare bin is
        not left wholly on one side by chance; a bin of one row goes to the generator)."""
        n = self.net.dataset.train.y.size
        if split is None:
            return np.arange(n), np.arange(n)
        rng = np.random.default_rng([self.seed, int(round(split * 1000))])
        b = bins.assign(self.net.dataset.train.y)
        gen = []
        for k in np.unique(b):
            idx = rng.permutation(np.flatnonzero(b == k))
            gen.append(idx[: max(1, int(round(split * idx.size)))])
        gen_rows = np.sort(np.concatenate(gen))
        return gen_rows, np.setdiff1d(np.arange(n), gen_rows)

    def _part(self, generator: str, split: float | None) -> _Part:
        t0 = time.perf_counter()
        ds, net = self.net.dataset, self.net
        Z, y = net.features("train"), ds.train.y
        errors = np.abs(net.predictions("train") - y)  # eq. 8 inputs
        gen_rows, head_rows = self._split_rows(split, ds.eval_bins)
        n_max = max(self.tune.ratios)
        config = self.sampler_config.replace(ratio=n_max, gate=True)
        where = None
        if self.generator_dir is not None:
            where = (
                self.generator_dir / generator / ("all" if split is None else f"split-{split:g}")
            )
        sampler = LatentDiffSampler.from_config(
            config, generator=generator, random_state=self.seed, progress=self.progress,
            checkpoint_dir=where, device=device_of(net.model),
        )  # fmt: skip
        sampler.fit(Z[gen_rows], y[gen_rows], sample_errors=errors[gen_rows])
        regions = bin_regions(
            sampler.bins_.assign(y[gen_rows]), ds.regions.of(y[gen_rows]), sampler.bins_.n_bins
        )
        n_real = head_rows.size
        size = np.zeros(sampler.bins_.n_bins, dtype=np.int64)
        for a in allocation_names(self.tune):
            for r in self.tune.ratios:
                req = requested_counts(a, int(round(r * n_real)), sampler, regions)
                size = np.maximum(size, req)
        pool = self._pool(sampler, size, where)
        return _Part(sampler, pool, head_rows, regions, time.perf_counter() - t0)

    def _pool(self, sampler: LatentDiffSampler, size: np.ndarray, where: Path | None) -> Pool:
        path = None if where is None else where / "pool.safetensors"
        key = fingerprint(self.key, "pool", str(where), size)
        if path is not None and path.exists():
            try:
                state, _ = load_state(path, key)
                return Pool(**{k: np.asarray(v) for k, v in state.items()})
            except ValueError:
                pass  # another search's pool: generate afresh
        bin_idx = np.repeat(np.arange(size.size), size)
        y = sampler.bin_labels_[bin_idx]  # y_syn := the bin's label, as latentdiff's generate
        Z = sampler.sample(y) if y.size else np.empty((0, sampler.n_features_in_), np.float32)
        d = sampler.gate_.distances(Z, bin_idx) if y.size else np.empty(0)
        start = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
        pool = Pool(np.asarray(Z, np.float32), y, bin_idx, d, start, size)
        if path is not None:
            import torch

            save_state(path, {k: torch.as_tensor(v) for k, v in asdict(pool).items()}, key)
        return pool

    # --- one candidate ----------------------------------------------------------------------
    def synthetic(self, part: _Part, c: Candidate) -> tuple[np.ndarray, np.ndarray]:
        """The accepted synthetic features of candidate ``c``."""
        n_total = int(round(c.ratio * part.real.size))
        req = requested_counts(c.allocation, n_total, part.sampler, part.regions_of_bins)
        rows = part.pool.take(req)
        if c.quantile is not None and rows.size:
            keep = part.sampler.gate_.accept_at(
                part.pool.distance[rows], part.pool.bin[rows], c.quantile
            )
            rows = rows[keep]
        return part.pool.Z[rows], part.pool.y[rows]

    def fit_candidate(self, part: _Part, c: Candidate):
        """(model, head result, val score, Z_syn, y_syn) of one candidate: stage 7 as
        ``latentdiff`` runs it, with the candidate's synthetic features and weight."""
        t0 = time.perf_counter()
        net, ds = self.net, self.net.dataset
        Zs, ys = self.synthetic(part, c) if c.ratio > 0 else (np.empty((0, 1)), np.empty(0))
        model = copy.deepcopy(net.model)
        result = fit_head(
            model,
            net.features("train")[part.real],
            ds.train.y[part.real],
            Zs,
            ys,
            net.features("val"),
            ds.val.y,
            self.head.replace(synthetic_weight=c.synthetic_weight),
            net.train,
            random_state=self.seed,
            progress=False,
            hooks=net.hooks,
            bins=ds.eval_bins,
        )
        pred = predict_from_features(model, net.features("val"))
        score = bin_balanced_error(ds.val.y, pred, ds.eval_bins, self.metric)
        self.head_seconds += time.perf_counter() - t0
        self.n_heads += 1
        return model, result, score, Zs, ys

    def score(self, part: _Part, c: Candidate, stage: str) -> float:
        if c.key not in self.scores:
            self.scores[c.key] = self.fit_candidate(part, c)[2]
            self._save_scores()
        self.log.append({"stage": stage, **asdict(c), "val_score": self.scores[c.key]})
        return self.scores[c.key]

    # --- the search -------------------------------------------------------------------------
    def run(self) -> TuningResult:
        t0 = time.perf_counter()
        tune, base = self.tune, self.sampler_config
        q0 = base.quantile if base.gate else None
        parts: dict[tuple[str, float | None], _Part] = {}

        def part(generator: str, split: float | None = None) -> _Part:
            if (generator, split) not in parts:
                parts[(generator, split)] = self._part(generator, split)
            return parts[(generator, split)]

        first = self.generators[0]
        main = part(first)
        baseline = Candidate(0.0, "none", None, 1.0)
        self.score(main, baseline, "baseline")
        best = min(
            (Candidate(r, a, q0, 1.0, None, first)
             for a in allocation_names(tune) for r in tune.ratios),
            key=lambda c: (self.score(main, c, "ratio-allocation"), c.ratio),
        )  # fmt: skip
        for g in self.generators[1:]:  # generator x ratio, at the allocation chosen so far
            for r in tune.ratios:
                c = Candidate(r, best.allocation, q0, 1.0, None, g)
                if (self.score(part(g), c, "generator"), r) < (self.scores[best.key], best.ratio):
                    best = c
        quantiles = [*tune.quantiles, *([None] if tune.gate_off else [])]
        best = self._axis(part(best.generator), best, "quantile", quantiles)
        best = self._axis(part(best.generator), best, "synthetic_weight", tune.synthetic_weights)
        for s in tune.splits:
            for r in tune.ratios:
                self.score(part(best.generator, s), Candidate(r, best.allocation, best.quantile,
                           best.synthetic_weight, s, best.generator), "split")  # fmt: skip
        evaluated = [
            Candidate(**{k: v for k, v in e.items() if k not in ("stage", "val_score")})
            for e in self.log
        ]
        chosen = min(evaluated, key=lambda c: (self.scores[c.key], c.ratio))
        search_seconds = time.perf_counter() - t0
        part = main if chosen.generator is None else parts[(chosen.generator, chosen.split)]
        model, result, score, Zs, ys = self.fit_candidate(part, chosen)
        bins = part.sampler.bins_
        n_total = int(round(chosen.ratio * part.real.size))
        requested = (
            requested_counts(chosen.allocation, n_total, part.sampler, part.regions_of_bins)
            if chosen.ratio > 0
            else np.zeros(bins.n_bins, dtype=np.int64)
        )
        accepted = np.bincount(bins.assign(ys), minlength=bins.n_bins) if ys.size else 0 * requested
        per_bin = [
            {
                "bin": k,
                "center": float(bins.centers[k]),
                "label": float(part.sampler.bin_labels_[k]),
                "n_real": int(part.sampler.bin_counts_[k]),
                "region": part.regions_of_bins[k],
                "requested": int(requested[k]),
                "accepted": int(accepted[k]),
            }
            for k in range(bins.n_bins)
        ]
        report = {
            "criterion": f"validation {self.metric.upper()} averaged over the label bins",
            "baseline_score": self.scores[baseline.key],
            "chosen": asdict(chosen),
            "chosen_score": score,
            "candidates": _unique(self.log),
            "n_head_fits": self.n_heads,
            "generators": self._per_generator(parts),
        }
        seconds = {
            "generator_fits": sum(p.seconds for p in parts.values()),
            "n_generator_fits": len(parts),
            "generator_fit_seconds": {
                g: sum(p.seconds for (pg, _), p in parts.items() if pg == g)
                for g in self.generators
            },
            "head_fits": self.head_seconds,
            "search": search_seconds,
        }
        return TuningResult(model, result, chosen, Zs, ys, part.sampler, report, seconds, per_bin)

    def _per_generator(self, parts: dict) -> dict:
        """Per candidate generator: its best validation score over the candidates that used
        it, how many there were, and the seconds its fits and pools took."""
        out = {}
        for g in self.generators:
            mine = [e for e in _unique(self.log) if e["generator"] == g]
            out[g] = {
                "best_val_score": min(e["val_score"] for e in mine) if mine else None,
                "n_candidates": len(mine),
                "fit_seconds": sum(p.seconds for (pg, _), p in parts.items() if pg == g),
            }
        return out

    def _axis(self, part: _Part, best: Candidate, name: str, values) -> Candidate:
        """The best of ``best`` with setting ``name`` changed to each of ``values``."""
        tried = [best] + [
            Candidate(**{**asdict(best), name: v}) for v in values if v != getattr(best, name)
        ]
        return min(tried, key=lambda c: (self.score(part, c, name), c.ratio))


def _unique(log: list[dict]) -> list[dict]:
    """The log without repeated candidates (the first stage that scored one names it)."""
    seen, out = set(), []
    for e in log:
        k = json.dumps({k: v for k, v in e.items() if k not in ("stage", "val_score")},
                       sort_keys=True)  # fmt: skip
        if k not in seen:
            seen.add(k)
            out.append(e)
    return out
