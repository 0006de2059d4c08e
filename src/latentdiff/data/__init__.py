"""Data loaders: each returns a :class:`DIRDataset`."""

from .base import MODALITIES, DIRDataset, Split, balanced_split, make_regions

__all__ = ["MODALITIES", "DIRDataset", "Split", "balanced_split", "make_regions"]
