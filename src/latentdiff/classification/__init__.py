"""Long-tailed classification (seed 002, LDMLR): the data protocol (:mod:`.protocol`), the
loaders (:mod:`.loaders`), per-region metrics (:mod:`.metrics`), the class-conditional feature
diffusion (:mod:`.diffusion`) and LDMLR's generation and head fine-tuning (:mod:`.ldmlr`)."""

from .metrics import classification_metrics
from .protocol import CLASS_THRESHOLDS, ClassSplit, LTDataset, long_tail_counts, make_long_tailed

__all__ = [
    "CLASS_THRESHOLDS",
    "ClassSplit",
    "LTDataset",
    "classification_metrics",
    "long_tail_counts",
    "make_long_tailed",
]
