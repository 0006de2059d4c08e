"""Image encoder: a ResNet trunk over face images, with DIR's preprocessing in plain torch.

Preprocessing as in seed 004, appendix B.1-B.2 (AgeDB-DIR, IMDB-WIKI-DIR): every image is resized
to ``image_size x image_size`` and scaled into [0, 1]; during training it is zero-padded by 16
pixels on each side, randomly cropped back to its size and randomly flipped horizontally. The
encoder is ResNet-50 (seed 004, C.1; seed 000 uses the same m = 2048 features).

Images are decoded lazily with Pillow, one per item, so a data set of 200k faces never sits in
memory; pair :meth:`ResNetEncoder.inputs` with a ``DataLoader(num_workers=...)`` for speed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from ..data.base import DIRDataset, Split
from .base import EncoderSpec
from .resnet import ARCHS, build_resnet, load_backbone_weights

__all__ = [
    "DIR_PAD",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ImageFiles",
    "ResNetEncoder",
    "load_image",
    "pad_random_crop",
    "random_hflip",
]

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
#: zero padding on each side before the random crop (seed 004, B.1)
DIR_PAD = 16
_OUT_DIM = {"resnet50": 2048, "resnet18": 512}


def load_image(path: str | os.PathLike, image_size: int) -> Tensor:
    """Decode an image file into a float tensor ``(3, image_size, image_size)`` in [0, 1].

    The image is converted to RGB (grey-scale and RGBA faces exist in the wild) and resized with
    Pillow's bilinear filter, which antialiases when shrinking, to a square (aspect ratio is not
    kept, as in DIR's ``Resize((size, size))``).
    """
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("RGB").resize((image_size, image_size), Image.Resampling.BILINEAR)
            arr = np.array(im, dtype=np.uint8)  # (H, W, 3), a writable copy
    except FileNotFoundError:
        raise FileNotFoundError(f"image file not found: {path}") from None
    except OSError as e:  # PIL.UnidentifiedImageError and truncated files are OSErrors
        raise OSError(f"cannot decode image {path}: {e}") from e
    return torch.from_numpy(arr).permute(2, 0, 1).float().div_(255.0)  # (3, H, W)


def pad_random_crop(img: Tensor, pad: int, generator: torch.Generator | None = None) -> Tensor:
    """Zero-pad ``pad`` pixels on each side, then crop a random window of the original size.

    Parameters
    ----------
    img : Tensor of shape (C, H, W)
    pad : int
        Padding on each side; the crop offset is uniform in ``[0, 2 pad]`` per axis.
    generator : torch.Generator, optional
        Source of randomness (the global one when ``None``, which DataLoader workers seed apart).
    """
    if pad <= 0:
        return img
    c, h, w = img.shape
    padded = img.new_zeros(c, h + 2 * pad, w + 2 * pad)  # (C, H + 2p, W + 2p)
    padded[:, pad : pad + h, pad : pad + w] = img
    top, left = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    return padded[:, top : top + h, left : left + w]  # (C, H, W)


def random_hflip(img: Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    """Mirror ``img`` (C, H, W) left-right with probability ``p``."""
    if torch.rand((), generator=generator).item() < p:
        return img.flip(-1)
    return img


class ImageFiles(Dataset):
    """Lazy image data set; item ``i`` is the 1-tuple ``(image,)`` with image ``(3, S, S)``.

    Parameters
    ----------
    paths : sequence of str
        Image files, one per sample.
    image_size : int
        Side S of the square the images are resized to.
    augment : bool
        Apply DIR's training augmentation (zero-pad, random crop, random horizontal flip).
    mean, std : sequence of 3 floats, optional
        Per-channel normalisation applied last; ``None`` keeps values in [0, 1].
    pad : int
        Padding of the random crop.
    """

    def __init__(
        self,
        paths: Sequence[str],
        image_size: int,
        augment: bool = False,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        pad: int = DIR_PAD,
    ):
        self.paths = [str(p) for p in paths]
        self.image_size = int(image_size)
        self.augment = bool(augment)
        self.pad = int(pad)
        if (mean is None) != (std is None):
            raise ValueError("give both mean and std, or neither")
        self.mean = None if mean is None else torch.tensor(mean, dtype=torch.float32)[:, None, None]
        self.std = None if std is None else torch.tensor(std, dtype=torch.float32)[:, None, None]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[Tensor]:
        img = load_image(self.paths[i], self.image_size)  # (3, S, S) in [0, 1]
        if self.augment:
            # pad with black pixels in [0, 1] space, before normalising, as DIR does
            img = random_hflip(pad_random_crop(img, self.pad))
        if self.mean is not None:
            img = (img - self.mean) / self.std
        return (img,)


@dataclass
class ResNetEncoder(EncoderSpec):
    """ResNet encoder for images: z = pooled features of the last stage (m = 2048 or 512).

    Parameters
    ----------
    arch : {"resnet50", "resnet18"}
        ResNet-50 is the papers' encoder; ResNet-18 is for fast tests and CPU demos.
    weights : str, optional
        Local ``.safetensors`` / ``.pt`` / ``.pth`` file with torchvision-named weights (the
        ``fc`` head is ignored). ``None`` starts from random initialisation; nothing is ever
        downloaded.
    image_size : int
        Side of the square input (224 in DIR).
    train_augment : bool
        Use DIR's augmentation for ``inputs(split, train=True)``.
    normalize : {"unit", "imagenet"}
        ``"unit"`` keeps pixels in [0, 1] (DIR); ``"imagenet"`` standardises with ImageNet's
        channel mean and std, which ImageNet-pretrained weights expect.
    """

    arch: Literal["resnet50", "resnet18"] = "resnet50"
    weights: str | None = None
    image_size: int = 224
    train_augment: bool = True
    normalize: Literal["unit", "imagenet"] = "unit"

    modalities = ("image",)

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ValueError(f"unknown arch {self.arch!r}; expected one of {sorted(ARCHS)}")
        if self.normalize not in ("unit", "imagenet"):
            raise ValueError(f"normalize must be 'unit' or 'imagenet', got {self.normalize!r}")
        if int(self.image_size) != self.image_size or self.image_size < 1:
            raise ValueError(f"image_size must be a positive integer, got {self.image_size!r}")
        self.image_size = int(self.image_size)
        if self.weights is not None:
            # a str keeps config() JSON-friendly even when a Path was passed
            self.weights = str(self.weights)

    def prepare(self, dataset: DIRDataset) -> None:
        """Check the modality, the weight file and that every image file of every split exists.

        Raises
        ------
        FileNotFoundError
            Naming how many images are missing and up to five of their paths.
        """
        self.check(dataset)
        if self.weights is not None and not Path(self.weights).is_file():
            raise FileNotFoundError(f"weight file not found: {self.weights}")
        paths = [str(p) for part in (dataset.train, dataset.val, dataset.test) for p in part.X]
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            shown = "\n  ".join(missing[:5])
            more = f"\n  ... and {len(missing) - 5} more" if len(missing) > 5 else ""
            root = dataset.info.get("image_root")
            where = f" (image_root: {root})" if root else ""
            raise FileNotFoundError(
                f"{len(missing)} of {len(paths)} image file(s) of data set {dataset.name!r} "
                f"are missing{where}:\n  {shown}{more}"
            )

    def inputs(self, split: Split, train: bool = False) -> ImageFiles:
        """Lazy images of ``split``; augmented only when ``train`` and ``train_augment``."""
        mean, std = (IMAGENET_MEAN, IMAGENET_STD) if self.normalize == "imagenet" else (None, None)
        return ImageFiles(
            split.X,
            self.image_size,
            augment=train and self.train_augment,
            mean=mean,
            std=std,
        )

    def train_inputs(self, split: Split) -> ImageFiles:
        """Training images, with DIR's pad-crop-flip augmentation when ``train_augment``."""
        return self.inputs(split, train=True)

    def build(self) -> nn.Module:
        """A ResNet trunk (no ``fc``): ``module(images (B, 3, S, S)) -> (B, out_dim)``."""
        model = build_resnet(self.arch)
        if self.weights is not None:
            load_backbone_weights(model, self.weights)
        return model

    @property
    def out_dim(self) -> int:
        return _OUT_DIM[self.arch]
