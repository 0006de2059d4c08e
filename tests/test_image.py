"""Image path: the ResNet backbones, weight loading, the age label loader and the image encoder."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file
from torch.utils.data import DataLoader

from latentdiff.data.base import Split
from latentdiff.data.images import load_age_csv, load_agedb_dir
from latentdiff.encoders.image import (
    ImageFiles,
    ResNetEncoder,
    load_image,
    pad_random_crop,
    random_hflip,
)
from latentdiff.encoders.resnet import load_backbone_weights, resnet18, resnet50

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LATENTDIFF_SHARED_DATA", REPO.parent / "shared" / "data"))
AGEDB_CSV = SHARED_DATA / "agedb-dir" / "agedb.csv"


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.fixture(scope="module")
def r50() -> torch.nn.Module:
    torch.manual_seed(0)
    return resnet50(num_classes=1000)


# --- architecture -----------------------------------------------------------------------------
def test_resnet50_parameter_counts(r50):
    assert n_params(r50) == 25_557_032
    assert n_params(resnet50()) == 23_508_032  # the trunk, the paper's 23.51M


def test_resnet18_parameter_count():
    assert n_params(resnet18(num_classes=1000)) == 11_689_512


def test_resnet50_state_dict_uses_torchvision_names(r50):
    sd = r50.state_dict()
    assert len(sd) == 320  # torchvision's resnet50 state dict, fc included
    expected = {
        "conv1.weight": (64, 3, 7, 7),
        "bn1.running_var": (64,),
        "layer1.0.conv1.weight": (64, 64, 1, 1),
        "layer1.0.conv2.weight": (64, 64, 3, 3),
        "layer1.0.downsample.0.weight": (256, 64, 1, 1),
        "layer1.0.downsample.1.running_mean": (256,),
        "layer2.0.conv2.weight": (128, 128, 3, 3),
        "layer3.5.bn3.weight": (1024,),
        "layer4.0.downsample.0.weight": (2048, 1024, 1, 1),
        "layer4.2.conv3.weight": (2048, 512, 1, 1),
        "fc.weight": (1000, 2048),
        "fc.bias": (1000,),
    }
    for k, shape in expected.items():
        assert tuple(sd[k].shape) == shape, k
    assert "layer4.3.conv1.weight" not in sd and "layer3.5.conv1.weight" in sd
    assert "layer1.1.downsample.0.weight" not in sd


def test_resnet50_v15_stride_on_3x3(r50):
    block = r50.layer2[0]
    assert block.conv1.stride == (1, 1) and block.conv2.stride == (2, 2)


def test_resnet50_forward_gives_pooled_features(r50):
    x = torch.rand(2, 3, 64, 64)
    r50.eval()
    with torch.no_grad():
        z = r50(x)
        logits = r50.classify(x)
    assert z.shape == (2, 2048) and logits.shape == (2, 1000)
    assert torch.isfinite(z).all()
    with pytest.raises(ValueError, match="B, 3, H, W"):
        r50(torch.rand(2, 64, 64))


# --- weight files -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["safetensors", "pt", "legacy"])
def test_weight_round_trip(tmp_path, kind):
    torch.manual_seed(1)
    src = resnet18(num_classes=1000).eval()  # file with an fc head, as torchvision ships them
    sd = src.state_dict()
    if kind == "safetensors":
        path = tmp_path / "r18.safetensors"
        save_file(sd, str(path))
    elif kind == "pt":
        path = tmp_path / "r18.pt"
        torch.save(sd, path)
    else:
        # an older checkpoint: no BatchNorm counters, DataParallel prefix, wrapped with metadata
        path = tmp_path / "r18.pth"
        old = {f"module.{k}": v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
        torch.save({"state_dict": old, "epoch": 90}, path)

    torch.manual_seed(2)
    dst = resnet18().eval()
    assert load_backbone_weights(dst, path) is dst
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(dst(x), src(x))


def test_weight_file_with_wrong_key_or_shape_is_rejected(tmp_path):
    sd = resnet18().state_dict()
    bad_key = dict(sd)
    bad_key["layer9.conv.weight"] = bad_key.pop("layer2.1.conv1.weight")
    torch.save(bad_key, tmp_path / "key.pt")
    target = resnet18()
    before = target.conv1.weight.clone()
    with pytest.raises(ValueError, match=r"missing key.*layer2\.1\.conv1\.weight") as e:
        load_backbone_weights(target, tmp_path / "key.pt")
    assert "unexpected key(s): layer9.conv.weight" in str(e.value)
    assert torch.equal(target.conv1.weight, before)  # nothing copied from a rejected file

    bad_shape = dict(sd)
    bad_shape["conv1.weight"] = torch.zeros(64, 3, 3, 3)
    save_file(
        {k: v.contiguous() for k, v in bad_shape.items()}, str(tmp_path / "shape.safetensors")
    )
    with pytest.raises(ValueError, match=r"shape mismatch.*conv1\.weight: file \(64, 3, 3, 3\)"):
        load_backbone_weights(resnet18(), tmp_path / "shape.safetensors")

    with pytest.raises(ValueError, match="missing key"):  # resnet18 weights into a resnet50
        load_backbone_weights(resnet50(), tmp_path / "shape.safetensors")
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_backbone_weights(resnet18(), tmp_path / "nope.pt")
    (tmp_path / "w.npz").write_bytes(b"x")
    with pytest.raises(ValueError, match="unsupported weight file suffix"):
        load_backbone_weights(resnet18(), tmp_path / "w.npz")


class _Payload:
    """Unpickling this calls ``os.mkdir(marker)``: stands in for arbitrary code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"conv1.weight": _Payload(marker)}, path)
    with pytest.raises(ValueError, match="refusing to load"):
        load_backbone_weights(resnet18(), path)
    assert not marker.exists()
    # control: a full unpickle of the same bytes does run the payload
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Payload(control)))
    assert control.exists()


# --- label files ------------------------------------------------------------------------------
@pytest.mark.skipif(not AGEDB_CSV.is_file(), reason=f"AgeDB-DIR label file absent: {AGEDB_CSV}")
def test_agedb_dir_label_file():
    ds = load_agedb_dir(AGEDB_CSV.parent, check_images=False)
    assert ds.modality == "image" and ds.name == "agedb-dir"
    assert (len(ds.train), len(ds.val), len(ds.test)) == (12_208, 2_140, 2_140)
    assert ds.eval_bins.n_bins == 101 and ds.eval_bins.width == 1.0  # ages 1..101
    assert ds.regions.train_counts.max() == 353
    regions, counts = np.unique(ds.regions.of(ds.test.y), return_counts=True)
    assert dict(zip(regions, counts, strict=True)) == {"many": 1530, "medium": 448, "few": 162}
    first = ds.train.X[0]
    assert ds.train.X.dtype == object and os.path.isabs(first) and first.endswith(".jpg")
    assert ds.info["image_root"] == os.path.abspath(AGEDB_CSV.parent)
    lds = load_age_csv(AGEDB_CSV, regions="latentdiff", label_range=(0, 101), check_images=False)
    assert lds.eval_bins.n_bins == 102 and "70" in lds.regions.description


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("age,file,split\n3,a.png,train\n", ValueError, r"lacks column\(s\) \['path'\]"),
        ("age,path,split\n3,a.png,train\nold,b.png,val\n", ValueError, "not numeric"),
        ("age,path,split\n3,a.png,train\n,b.png,val\n", ValueError, "missing"),
        ("age,path,split\n3,a.png,train\n4,b.png,dev\n", ValueError, r"unknown split.*'dev'"),
        ("age,path,split\n3,a.png,train\n4,b.png,val\n", ValueError, "test split is empty"),
        ("age,path,split\n3,a.png,train\n4,,val\n5,c.png,test\n", ValueError, "empty image path"),
    ],
)
def test_age_csv_errors(tmp_path, text, error, match):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(error, match=match):
        load_age_csv(path)


def test_age_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        load_age_csv(tmp_path / "nothere.csv", tmp_path)


# --- images end to end ------------------------------------------------------------------------
AGES = {"train": [20, 21, 22, 22, 23, 30], "val": [21, 25, 30], "test": [20, 22, 30]}


def make_age_folder(root: Path) -> Path:
    """12 small generated images (mixed sizes and modes) and an ``age,path,split`` CSV."""
    rng = np.random.default_rng(0)
    (root / "faces").mkdir(parents=True)
    rows, i = ["age,path,split"], 0
    for split, ages in AGES.items():
        for age in ages:
            h, w = (32, 32) if i % 3 else (40, 28)
            arr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
            img = Image.fromarray(arr)
            img = img.convert("L") if i == 1 else img.convert("RGBA") if i == 2 else img
            img.save(root / "faces" / f"{i:02d}.png")
            rows.append(f"{age},faces/{i:02d}.png,{split}")
            i += 1
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root / "labels.csv"


def test_image_encoder_end_to_end(tmp_path):
    csv = make_age_folder(tmp_path)
    ds = load_age_csv(csv, tmp_path / ".", name="tiny-ages")
    assert ds.train.X[0] == str(tmp_path / "faces" / "00.png")
    spec = ResNetEncoder(arch="resnet18", image_size=32)
    assert spec.out_dim == 512 and spec.modalities == ("image",)
    spec.prepare(ds)

    data = spec.inputs(ds.test)
    assert len(data) == 3
    (img,) = data[0]
    assert img.shape == (3, 32, 32) and img.dtype == torch.float32
    for (x,) in (data[i] for i in range(len(data))):
        assert 0.0 <= x.min() and x.max() <= 1.0
    assert torch.equal(spec.inputs(ds.test)[1][0], data[1][0])  # evaluation is deterministic
    tr = spec.inputs(ds.train, train=True)
    assert tr.augment and not spec.inputs(ds.train).augment
    assert tr[0][0].shape == (3, 32, 32)

    torch.manual_seed(0)
    model = spec.build().eval()
    (batch,) = next(iter(DataLoader(spec.inputs(ds.train), batch_size=4)))
    with torch.no_grad():
        z = model(batch)
    assert batch.shape == (4, 3, 32, 32) and z.shape == (4, 512)

    # the same trunk again from a weight file, through the spec
    save_file(model.state_dict(), str(tmp_path / "r18.safetensors"))
    spec_w = ResNetEncoder(arch="resnet18", image_size=32, weights=tmp_path / "r18.safetensors")
    spec_w.prepare(ds)
    with torch.no_grad():
        assert torch.equal(spec_w.build().eval()(batch), z)
    assert spec_w.config()["weights"] == str(tmp_path / "r18.safetensors")


def test_prepare_names_missing_images(tmp_path):
    ds = load_age_csv(make_age_folder(tmp_path))
    (tmp_path / "faces" / "07.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"(?s)1 of 12 image file\(s\).*faces/07\.png"):
        ResNetEncoder(arch="resnet18").prepare(ds)
    for f in (tmp_path / "faces").glob("*.png"):
        f.unlink()
    with pytest.raises(FileNotFoundError, match=r"(?s)12 of 12 .*and 7 more"):
        ResNetEncoder(arch="resnet18").prepare(ds)
    with pytest.raises(FileNotFoundError, match="weight file not found"):
        ResNetEncoder(arch="resnet18", weights=str(tmp_path / "w.pt")).prepare(ds)


def test_encoder_rejects_other_modalities_and_bad_config(tmp_path):
    ds = load_age_csv(make_age_folder(tmp_path))
    ds.modality = "tabular"
    with pytest.raises(ValueError, match="takes \\('image',\\) data"):
        ResNetEncoder().prepare(ds)
    with pytest.raises(ValueError, match="unknown arch"):
        ResNetEncoder(arch="vgg16")
    with pytest.raises(ValueError, match="normalize"):
        ResNetEncoder(normalize="zscore")


def test_augmentation_and_normalisation(tmp_path):
    img = torch.arange(2 * 4 * 5, dtype=torch.float32).reshape(2, 4, 5) + 1
    g = torch.Generator().manual_seed(0)
    crops = [pad_random_crop(img, 2, generator=g) for _ in range(50)]
    assert all(c.shape == img.shape for c in crops)
    assert any(torch.equal(c, img) for c in crops) and any((c == 0).any() for c in crops)
    # every crop is a shifted window: its non-zero pixels are a block of the original
    assert all(torch.isin(c[c != 0], img).all() for c in crops)
    flips = {torch.equal(random_hflip(img, generator=g), img.flip(-1)) for _ in range(50)}
    assert flips == {True, False}

    Image.new("RGB", (10, 6), (255, 0, 51)).save(tmp_path / "red.png")
    x = load_image(tmp_path / "red.png", 8)
    assert x.shape == (3, 8, 8) and torch.allclose(x[:, 0, 0], torch.tensor([1.0, 0.0, 0.2]))
    (xn,) = ImageFiles([tmp_path / "red.png"], 8, mean=(0.5,) * 3, std=(0.25,) * 3)[0]
    assert torch.allclose(xn, (x - 0.5) / 0.25)
    spec = ResNetEncoder(arch="resnet18", image_size=8, normalize="imagenet")
    (xi,) = spec.inputs(Split(np.array([str(tmp_path / "red.png")], dtype=object), [0.0]))[0]
    assert torch.allclose(xi[0], (x[0] - 0.485) / 0.229)
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(OSError, match="cannot decode image .*junk.png"):
        load_image(tmp_path / "junk.png", 8)


def test_bench_cli_runs_the_image_path_end_to_end(tmp_path, capsys):
    """LatentDiff on ResNet features of tiny generated images, through the CLI."""
    import json

    from latentdiff.cli import main

    csv = make_age_folder(tmp_path / "ages")
    args = ["bench", "--dataset", "agedb-dir", "--data", str(csv), "--image-root", str(csv.parent)]
    args += ["--encoder-option", "arch=resnet18", "--encoder-option", "image_size=32"]
    args += ["--epochs", "2", "--batch-size", "4", "--diffusion-steps", "5", "--n-bins", "3"]
    args += ["--seeds", "0", "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    records = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {r["method"] for r in records} == {"vanilla", "latentdiff"}
    cfg = json.loads((tmp_path / "out" / "config.json").read_text())
    assert cfg["encoder_name"] == "resnet" and cfg["encoder"]["arch"] == "resnet18"
