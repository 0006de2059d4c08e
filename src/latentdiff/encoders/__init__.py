"""Encoders f_psi for each modality and a registry of them by name.

The text and image families import their heavier dependencies only when built.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import EncoderSpec, tensor_inputs


def _mlp(**kw) -> EncoderSpec:
    from .mlp import MLPEncoder

    return MLPEncoder(**kw)


def _identity(**kw) -> EncoderSpec:
    from .mlp import IdentityEncoder

    return IdentityEncoder(**kw)


def _bilstm(**kw) -> EncoderSpec:
    from .text import BiLSTMGloveEncoder

    return BiLSTMGloveEncoder(**kw)


def _minilm(**kw) -> EncoderSpec:
    from .text import SentenceEmbeddingEncoder

    return SentenceEmbeddingEncoder(**kw)


def _resnet(**kw) -> EncoderSpec:
    from .image import ResNetEncoder

    return ResNetEncoder(**kw)


ENCODERS: dict[str, Callable[..., EncoderSpec]] = {
    "mlp": _mlp,
    "identity": _identity,
    "bilstm-glove": _bilstm,
    "minilm": _minilm,
    "resnet": _resnet,
}

#: The encoder each modality gets when none is named.
DEFAULT_ENCODER = {
    "tabular": "mlp",
    "features": "identity",
    "text": "bilstm-glove",
    "image": "resnet",
}


def make_encoder(name: str, **kwargs) -> EncoderSpec:
    """An encoder spec by registry name."""
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; known encoders: {', '.join(ENCODERS)}")
    try:
        return ENCODERS[name](**kwargs)
    except TypeError as e:  # an option the encoder does not have
        raise ValueError(
            f"encoder {name!r} does not take the option(s) {sorted(kwargs)}: {e}"
        ) from e


__all__ = ["DEFAULT_ENCODER", "ENCODERS", "EncoderSpec", "make_encoder", "tensor_inputs"]
