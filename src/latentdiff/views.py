"""Random views of a batch of encoder inputs, for contrastive regularisers (ConR).

ConR (Keramati et al. 2024) contrasts two augmented views of each sample; its image recipes use
crops and flips. For the inputs of this project:

* real-valued inputs (standardised tabular rows, frozen sentence embeddings): Gaussian noise of
  ``noise`` times each column's standard deviation in the batch;
* token ids (the BiLSTM's padded sentences): each real token replaced by the unknown-word id with
  probability ``token_drop`` (padding stays padding).
"""

from __future__ import annotations

import torch
from torch import Tensor

PAD, UNK = 0, 1  # the ids of latentdiff.encoders.text


def augment(
    inputs: tuple[Tensor, ...],
    generator: torch.Generator | None = None,
    noise: float = 0.1,
    token_drop: float = 0.1,
) -> tuple[Tensor, ...]:
    """One random view of each input tensor of a batch (new tensors; the inputs are unchanged)."""
    out = []
    for x in inputs:
        if x.is_floating_point():
            std = x.std(0, keepdim=True) if x.shape[0] > 1 else torch.ones_like(x[:1])
            eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            out.append(x + noise * std * eps)
        elif x.dtype in (torch.int64, torch.int32):
            drop = torch.rand(x.shape, generator=generator) < token_drop
            out.append(torch.where(drop & (x != PAD), torch.full_like(x, UNK), x))
        else:
            raise ValueError(f"cannot make a view of inputs of dtype {x.dtype}")
    return tuple(out)
