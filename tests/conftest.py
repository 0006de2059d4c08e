import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from latentdiff.data.tabular import dataset_from_frame

SHARED_DATA = Path(
    os.environ.get(
        "LATENTDIFF_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)

#: Small and fast diffusion / training settings for tests.
FAST_DIFFUSION = {"n_steps": 60, "hidden_dim": 64, "n_blocks": 1, "embed_dim": 16, "batch_size": 64}


def long_tailed_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """A tiny tabular regression with an exponential (long-tailed) target."""
    rng = np.random.default_rng(seed)
    y = rng.exponential(1.0, n)
    x1 = y + rng.normal(0, 0.3, n)
    x2 = rng.normal(0, 1, n)
    cat = np.where(y > 1.5, "high", "low")
    flip = rng.random(n) < 0.1
    cat[flip] = "low"
    return pd.DataFrame({"x1": x1, "x2": x2, "kind": cat, "target": y})


@pytest.fixture
def tiny_frame() -> pd.DataFrame:
    return long_tailed_frame()


@pytest.fixture
def tiny_dataset(tiny_frame):
    return dataset_from_frame(tiny_frame, "target", name="tiny", eval_n_bins=10, cap=10)


#: Numbers from the authors' reference code run out of tree (source and commit in each file).
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def load_golden(name: str) -> dict:
    import json

    return json.loads((GOLDEN_DIR / f"{name}.json").read_text())
