"""ResNet backbones written for this project, state-dict compatible with torchvision.

torchvision's PyPI wheels cannot be imported beside the CPU build of torch the project pins
(``operator torchvision::nms does not exist``), so the architecture is defined here. Module names
and parameter shapes follow torchvision's ``resnet50`` / ``resnet18`` exactly (``conv1``, ``bn1``,
``layer1.0.conv1``, ..., ``layer1.0.downsample.0``, ``fc``), so a local torchvision weight file
loads with ``strict=True``. ResNet-50 is the "v1.5" variant: the stride of a down-sampling
bottleneck sits on its 3x3 convolution, not on the first 1x1.

Golden sizes: ResNet-50 has 25,557,032 parameters with the 1000-way ``fc`` and 23,508,032 without
it (the 23.51M of seed 000); ResNet-18 has 11,689,512 with ``fc``.

Nothing here downloads weights: :func:`load_backbone_weights` reads a local file only.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

__all__ = [
    "ARCHS",
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "build_resnet",
    "load_backbone_weights",
    "read_state_dict",
    "resnet18",
    "resnet50",
]


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    # no bias: every convolution is followed by a BatchNorm whose shift plays that role
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or 1x1 projection) shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ):
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carries the stride, v1.5), 1x1 expand by 4, plus the shortcut."""

    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ):
        super().__init__()
        self.conv1 = _conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


Block = type[BasicBlock] | type[Bottleneck]


class ResNet(nn.Module):
    """A ResNet trunk whose ``forward`` returns the globally pooled features.

    Parameters
    ----------
    block : BasicBlock or Bottleneck
        Residual block type.
    layers : sequence of 4 ints
        Number of blocks in each stage (``[3, 4, 6, 3]`` for ResNet-50).
    num_classes : int, optional
        If given, a linear ``fc`` head (``out_dim -> num_classes``) is added, used only by
        :meth:`classify`; the feature path never goes through it. ``None`` (the default for
        encoders) leaves the trunk alone.
    zero_init_residual : bool
        Start the last BatchNorm of each block at zero so every block begins as the identity.
    """

    def __init__(
        self,
        block: Block,
        layers: tuple[int, int, int, int] | list[int],
        num_classes: int | None = None,
        zero_init_residual: bool = False,
    ):
        super().__init__()
        if len(layers) != 4 or min(layers) < 1:
            raise ValueError(f"layers must be 4 positive block counts, got {list(layers)}")
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.out_dim = 512 * block.expansion
        self.fc: nn.Linear | None = None
        if num_classes is not None:
            self.fc = nn.Linear(self.out_dim, int(num_classes))
        self._init_weights(zero_init_residual)

    def _make_layer(self, block: Block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            # projection shortcut whenever the residual changes resolution or width
            downsample = nn.Sequential(
                _conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        mods = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        mods += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*mods)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # He init with fan_out, the standard choice for ReLU ResNets trained from scratch
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def forward(self, x: Tensor) -> Tensor:
        """Pooled features ``(B, out_dim)`` of images ``x`` of shape ``(B, 3, H, W)``."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected images of shape (B, 3, H, W), got {tuple(x.shape)}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (B, 64, H/4, W/4)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)  # (B, out_dim, H/32, W/32)
        return torch.flatten(self.avgpool(x), 1)  # (B, out_dim)

    def classify(self, x: Tensor) -> Tensor:
        """Logits ``fc(forward(x))``; only for a model built with ``num_classes``."""
        if self.fc is None:
            raise RuntimeError("this ResNet has no fc head; build it with num_classes=...")
        return self.fc(self.forward(x))


def resnet50(num_classes: int | None = None, **kwargs) -> ResNet:
    """ResNet-50 (v1.5): bottleneck blocks ``[3, 4, 6, 3]``, 2048-d features."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnet18(num_classes: int | None = None, **kwargs) -> ResNet:
    """ResNet-18: basic blocks ``[2, 2, 2, 2]``, 512-d features (fast tests, CPU demos)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, **kwargs)


ARCHS: dict[str, Callable[..., ResNet]] = {"resnet50": resnet50, "resnet18": resnet18}


def build_resnet(arch: str, num_classes: int | None = None, **kwargs) -> ResNet:
    """A fresh, randomly initialised ResNet by name (``"resnet50"`` or ``"resnet18"``)."""
    if arch not in ARCHS:
        raise ValueError(f"unknown ResNet architecture {arch!r}; expected one of {sorted(ARCHS)}")
    return ARCHS[arch](num_classes=num_classes, **kwargs)


# --- weight files -----------------------------------------------------------------------------
_TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Tensors of a local weight file, never executing code stored in it.

    ``.safetensors`` files are read with ``safetensors.torch.load_file``; ``.pt`` / ``.pth`` /
    ``.bin`` / ``.ckpt`` with ``torch.load(weights_only=True)``, which refuses pickled objects
    other than tensors and plain containers. A checkpoint that wraps its weights in a
    ``"state_dict"`` or ``"model"`` entry is unwrapped, and a ``module.`` prefix on every key
    (``DataParallel``) is removed.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        For an unsupported suffix, an unreadable or unsafe file, or non-tensor entries.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weight file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            obj = load_file(str(path), device="cpu")
        except Exception as e:  # safetensors raises its own error type for a corrupt header
            raise ValueError(f"cannot read {path} as safetensors: {e}") from e
    elif suffix in _TORCH_SUFFIXES:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as e:
            raise ValueError(
                f"refusing to load {path}: it holds pickled objects other than tensors, which "
                "could run arbitrary code (torch.load with weights_only=True rejected it). "
                "Save a plain state_dict, ideally as .safetensors."
            ) from e
        except (RuntimeError, OSError, EOFError) as e:
            raise ValueError(f"cannot read {path} as a torch weight file: {e}") from e
    else:
        raise ValueError(
            f"unsupported weight file suffix {suffix!r} for {path}; "
            f"expected .safetensors or one of {_TORCH_SUFFIXES}"
        )
    for wrapper in ("state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(wrapper), Mapping):
            obj = obj[wrapper]
    if not isinstance(obj, Mapping):
        raise ValueError(f"{path} does not hold a state dict (got {type(obj).__name__})")
    bad = [k for k, v in obj.items() if not isinstance(v, Tensor)]
    if bad:
        raise ValueError(
            f"{path}: {len(bad)} entr(y/ies) are not tensors, e.g. {bad[0]!r} "
            f"({type(obj[bad[0]]).__name__}); expected a flat state dict of tensors"
        )
    sd = {str(k): v for k, v in obj.items()}
    if sd and all(k.startswith("module.") for k in sd):
        sd = {k[len("module.") :]: v for k, v in sd.items()}
    return sd


def _some(keys: list[str], n: int = 5) -> str:
    more = f", ... ({len(keys) - n} more)" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def load_backbone_weights(module: nn.Module, path: str | Path) -> nn.Module:
    """Load a local weight file into ``module`` strictly, apart from the classifier head.

    ``fc.*`` entries of the file are dropped when ``module`` has no ``fc`` (the encoder trunk);
    a module with an ``fc`` takes them when present and keeps its own initialisation otherwise.
    BatchNorm ``num_batches_tracked`` counters are optional (older torchvision files lack them).
    Every other key must be present with the same shape; the check runs before anything is
    copied, so a rejected file leaves ``module`` unchanged.

    Parameters
    ----------
    module : nn.Module
        Typically a :class:`ResNet` from :func:`build_resnet`.
    path : str or Path
        ``.safetensors`` or ``.pt`` / ``.pth`` file (see :func:`read_state_dict`).

    Returns
    -------
    nn.Module
        ``module`` itself, with the weights loaded.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming missing or unexpected keys and shape mismatches.
    """
    sd = read_state_dict(path)
    own = module.state_dict()
    module_has_fc = any(k.startswith("fc.") for k in own)
    if not module_has_fc:
        sd = {k: v for k, v in sd.items() if not k.startswith("fc.")}
    optional = {k for k in own if k.endswith("num_batches_tracked")}
    if not any(k.startswith("fc.") for k in sd):
        optional |= {k for k in own if k.startswith("fc.")}
    missing = sorted(set(own) - set(sd) - optional)
    unexpected = sorted(set(sd) - set(own))
    mismatched = [
        f"{k}: file {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in sd and sd[k].shape != own[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s): {_some(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s): {_some(unexpected)}")
    if mismatched:
        problems.append(f"{len(mismatched)} shape mismatch(es): {_some(mismatched)}")
    if problems:
        raise ValueError(
            f"weights in {path} do not fit {type(module).__name__}: " + "; ".join(problems)
        )
    # everything required was checked above; strict=False only lets the optional keys be absent
    module.load_state_dict(sd, strict=False)
    return module
