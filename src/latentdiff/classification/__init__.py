"""Long-tailed classification (seed 002, LDMLR): the data protocol (:mod:`.protocol`), the
loaders (:mod:`.loaders`), per-region metrics (:mod:`.metrics`), the class-conditional feature
diffusion (:mod:`.diffusion`) and LDMLR's generation and head fine-tuning (:mod:`.ldmlr`)."""

from .longtail import CLASS_THRESHOLDS, ClassSplit, LTDataset, long_tail_counts, make_long_tailed
from .scores import classification_metrics

__all__ = [
    "CLASS_THRESHOLDS",
    "ClassSplit",
    "LTDataset",
    "classification_metrics",
    "long_tail_counts",
    "make_long_tailed",
]
