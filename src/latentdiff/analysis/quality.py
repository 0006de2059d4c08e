"""All feature-quality numbers of one (method, seed)'s :class:`~.sample.FeatureSample`, overall,
per shot region and per generation bin.

Groups: a generation bin holds the real rows whose label falls in it and the synthetic rows
generated for it; a shot region is the union of the generation bins whose region
(``bin_regions`` in the sample's metadata: the region most of the bin's real training rows are
in) is that region; ``overall`` is every row. Within a bin the rows are a uniform draw; across
bins the sample is balanced (:func:`~.sample.bin_quota`), so region and overall numbers weigh a
rare bin's rows as much as a frequent one's.

A group's comparisons are computed when it holds at least :data:`MIN_ROWS` real and
:data:`MIN_ROWS` synthetic rows, else they are None (the row counts are always given). The
nearest-neighbour numbers are per synthetic row (its neighbour searched among all real rows of
the sample) and grouped by that row's bin.

Each group also has a ``reference``: the same comparisons with the held-out real (test)
features of the group in the place of the synthetic ones (in it, ``syn`` reads "held-out
real"). A generator that drew new real features would score about the reference, sampling
error included; a synthetic number far from it is a real difference.
"""

from __future__ import annotations

import numpy as np

from ..binning import REGIONS
from .activations import activation_table
from .divergence import divergence_table
from .frechet import frechet
from .neighbours import nearest_other_real, nearest_real, summary
from .sample import FeatureSample
from .similarity import cosine_table

#: rows each side needs in a group for its comparisons
MIN_ROWS = 5


def compare(real: np.ndarray, syn: np.ndarray) -> dict:
    """Table 8, Figures 29-37, Table 10 and the Frechet distance for one group's rows."""
    if len(real) < MIN_ROWS or len(syn) < MIN_ROWS:
        return {"cosine": None, "activations": None, "divergence": None, "frechet": None}
    return {
        "cosine": cosine_table(real, syn),
        "activations": activation_table(real, syn),
        "divergence": divergence_table(real, syn),
        "frechet": frechet(real, syn),
    }


def feature_quality(sample: FeatureSample) -> dict:
    """``{"overall": G, "regions": {region: G}, "bins": [G + bin fields]}``, each G holding
    ``n_real``, ``n_syn``, ``neighbours``, the entries of :func:`compare` and ``reference``
    (``n_test``, ``neighbours`` and :func:`compare` of real against held-out real)."""
    s, meta = sample, sample.meta
    dist, gap = nearest_real(s.real_z, s.real_y, s.syn_z, s.syn_y)
    t_dist, t_gap = nearest_real(s.real_z, s.real_y, s.test_z, s.test_y)
    own = nearest_other_real(s.real_z)

    def reference(real_mask: np.ndarray, test_mask: np.ndarray) -> dict:
        return {
            "n_test": int(test_mask.sum()),
            "neighbours": {
                "cosine_distance": summary(t_dist[test_mask]),
                "label_gap": summary(t_gap[test_mask]),
            },
            **compare(s.real_z[real_mask], s.test_z[test_mask]),
        }

    def group(real_mask: np.ndarray, syn_mask: np.ndarray, test_mask: np.ndarray) -> dict:
        return {
            "n_real": int(real_mask.sum()),
            "n_syn": int(syn_mask.sum()),
            "neighbours": {
                "cosine_distance": summary(dist[syn_mask]),
                "label_gap": summary(gap[syn_mask]),
                "real_to_real": summary(own[real_mask]),
            },
            **compare(s.real_z[real_mask], s.syn_z[syn_mask]),
            "reference": reference(real_mask, test_mask),
        }

    edges, labels = meta["bin_edges"], meta["bin_labels"]
    bin_regions = meta.get("bin_regions") or [None] * len(labels)
    bins = []
    for k in range(len(labels)):
        g = group(s.real_bin == k, s.syn_bin == k, s.test_bin == k)
        bins.append({"bin": k, "low": edges[k], "high": edges[k + 1], "label": labels[k],
                     "region": bin_regions[k], "real_total": meta["real_counts"][k],
                     "syn_total": meta["syn_counts"][k], **g})  # fmt: skip
    regions = {}
    for r in REGIONS:
        members = [k for k, br in enumerate(bin_regions) if br == r]
        if members:
            regions[r] = group(*(np.isin(b, members) for b in (s.real_bin, s.syn_bin, s.test_bin)))
    everything = group(*(np.ones(len(y), bool) for y in (s.real_y, s.syn_y, s.test_y)))
    return {"overall": everything, "regions": regions, "bins": bins}


#: the numbers :func:`scalars` takes from a group, by dotted path
SCALARS = (
    "cosine.real_real.mean",
    "cosine.syn_syn.mean",
    "cosine.real_syn.mean",
    "neighbours.cosine_distance.mean",
    "neighbours.cosine_distance.median",
    "neighbours.real_to_real.mean",
    "neighbours.label_gap.mean",
    "neighbours.label_gap.median",
    "activations.mean_correlation",
    "activations.std_correlation",
    "divergence.kl",
    "divergence.js",
    "divergence.wasserstein",
    "frechet",
    "reference.cosine.real_syn.mean",
    "reference.neighbours.cosine_distance.median",
    "reference.neighbours.label_gap.median",
    "reference.activations.mean_correlation",
    "reference.divergence.kl",
    "reference.divergence.js",
    "reference.divergence.wasserstein",
    "reference.frechet",
)


def scalars(group: dict) -> dict[str, float | None]:
    """The :data:`SCALARS` of a group (None where not computed)."""
    out = {}
    for path in SCALARS:
        v = group
        for part in path.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        out[path] = None if v is None else float(v)
    return out
