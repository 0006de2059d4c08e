"""LDMLR's method core (seed 002): the class-conditional diffusion, generation counts per target
and ratio, and the fine-tuning loss eq. 13 by hand."""

import math

import numpy as np
import pytest
import torch

from latentdiff.classification.class_diffusion import LDMLR_DIFFUSION, ClassFeatureDiffusion
from latentdiff.classification.ldmlr import (
    fine_tune_head,
    fine_tune_loss,
    generation_counts,
    generation_labels,
)
from latentdiff.generators.diffusion import Denoiser
from latentdiff.settings import DiffusionConfig

REGIONS = np.array(["many", "many", "medium", "medium", "few"], dtype=object)
COUNTS = np.array([300, 150, 60, 25, 10])  # 545 rows


def test_generation_counts_by_hand():
    # ratio 0.2 of 545 rows = 109; all: 109 // 5 = 21 each, 4 left to the rarest: classes 4,3,2,1
    assert generation_counts(COUNTS, REGIONS, "all", 0.2).tolist() == [21, 22, 22, 22, 22]
    # few: the one few class takes all 109
    assert generation_counts(COUNTS, REGIONS, "few", 0.2).tolist() == [0, 0, 0, 0, 109]
    # medium: 109 = 54 + 55, the extra one to class 3 (25 rows < 60)
    assert generation_counts(COUNTS, REGIONS, "medium", 0.2).tolist() == [0, 0, 54, 55, 0]
    assert generation_counts(COUNTS, REGIONS, "many", 0.0).tolist() == [0] * 5
    labels = generation_labels(np.array([2, 0, 1]))
    assert labels.tolist() == [0, 0, 2]


def test_generation_counts_bad_input():
    with pytest.raises(ValueError, match="target must be one of"):
        generation_counts(COUNTS, REGIONS, "rare", 0.2)
    with pytest.raises(ValueError, match="ratio"):
        generation_counts(COUNTS, REGIONS, "all", -1)
    with pytest.raises(ValueError, match="no class is in region 'few'"):
        generation_counts(COUNTS[:2], REGIONS[:2], "few", 0.2)


def test_fine_tune_loss_by_hand():
    # real: logits (0, ln 3) for class 1 -> p = 3/4; generated: (ln 2, 0) for class 1 -> p = 1/3
    logits_real = torch.tensor([[0.0, math.log(3.0)]])
    logits_gen = torch.tensor([[math.log(2.0), 0.0]])
    y = torch.tensor([1])
    loss = fine_tune_loss(logits_real, y, logits_gen, y, gamma=0.05)
    assert float(loss) == pytest.approx(-math.log(0.75) - 0.05 * math.log(1 / 3), rel=1e-6)
    empty = fine_tune_loss(logits_real, y, logits_gen[:0], y[:0])
    assert float(empty) == pytest.approx(-math.log(0.75), rel=1e-6)


def test_fine_tune_head_learns_and_is_seeded():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [80, 8])
    Z = rng.normal(size=(88, 4)) + 2.0 * y[:, None]
    Zg, yg = rng.normal(size=(40, 4)) + 2.0, np.ones(40, np.int64)

    def run():
        torch.manual_seed(0)
        head = torch.nn.Linear(4, 2)
        return head, fine_tune_head(head, Z, y, Zg, yg, epochs=15, random_state=3)

    head, hist = run()
    assert hist[-1] < hist[0]
    _, hist2 = run()
    assert hist == hist2


def test_class_denoiser_embeds_indices():
    net = Denoiser(6, DiffusionConfig(embed_dim=8, hidden_dim=16, n_blocks=1), n_classes=3)
    out = net(torch.zeros(4, 6), torch.tensor([0.0, 1.0, 2.0, 2.0]), torch.tensor([1, 2, 3, 4]))
    assert out.shape == (4, 6)
    assert isinstance(net.label_embed[0], torch.nn.Embedding)


def test_class_diffusion_learns_class_means():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [150, 50, 15])
    Z = rng.normal(size=(len(y), 4)) + 3.0 * y[:, None]
    cfg = dict(LDMLR_DIFFUSION, n_steps=600, max_epochs=None, early_stopping=False,
               batch_size=128, hidden_dim=64, embed_dim=32)  # fmt: skip
    g = ClassFeatureDiffusion(cfg, progress=False).fit(Z, y)
    assert g.n_classes_ == 3 and g.c_mean_ == 0.0 and g.c_std_ == 1.0
    s = g.sample(np.repeat([0, 1, 2], 100), random_state=0)
    means = s.reshape(3, 100, 4).mean(axis=(1, 2))
    assert np.allclose(means, [0.0, 3.0, 6.0], atol=0.6), means
    assert np.array_equal(s, g.sample(np.repeat([0, 1, 2], 100), random_state=0))


def test_class_diffusion_refuses_bad_conditions():
    Z = np.zeros((10, 2))
    g = ClassFeatureDiffusion(n_classes=2, progress=False)
    with pytest.raises(ValueError, match="class indices 0..1"):
        g.fit(Z, np.arange(10) % 3)
    with pytest.raises(ValueError, match="class indices"):
        g.fit(Z, np.full(10, 0.5))
    with pytest.raises(ValueError, match="n_classes"):
        ClassFeatureDiffusion(n_classes=1)
    with pytest.raises(ValueError, match="pretrained"):
        ClassFeatureDiffusion(init_from="x.safetensors")


def test_logit_adjustment_by_hand():
    from latentdiff.classification.methods import logit_adjust

    # priors 3/4, 1/4: logits (0, 0) -> (-ln 3/4, -ln 1/4) = (0.2877, 1.3863): the tail wins
    out = logit_adjust(np.zeros((1, 2)), [30, 10])
    assert out[0].tolist() == pytest.approx([-math.log(0.75), -math.log(0.25)])


def test_run_classification_on_digits():
    from latentdiff.classification.loaders import load_digits_lt
    from latentdiff.classification.methods import LDMLRSettings, run_classification

    ds = load_digits_lt(imbalance_factor=10)
    settings = LDMLRSettings(target="few", ratio=0.2, epochs=3,
                             diffusion=dict(LDMLR_DIFFUSION, n_steps=40))  # fmt: skip
    rows, details = run_classification(ds, seed=0, encoder="mlp", epochs=5, ldmlr=settings)
    methods = {r["method"] for r in rows}
    assert methods == {"ce", "label-shift", "ldmlr", "label-shift+ldmlr", "ce-ft", "cb", "crt"}
    assert len(rows) == 7 * 4 * 2  # methods x (all + 3 regions) x (accuracy, macro_f1)
    # ratio 0.2 of 544 rows = 109 features, all for the two few classes (17, 13 rows)
    assert details["ldmlr"]["generated_per_class"] == [0] * 8 + [54, 55]
    assert all(r["value"] is None or 0 <= r["value"] <= 1 for r in rows)
    again, _ = run_classification(ds, seed=0, encoder="mlp", epochs=5, ldmlr=settings)
    assert again == rows  # seeded: the same records
    with pytest.raises(ValueError, match="unknown classification method"):
        run_classification(ds, methods=("ce", "focal"), encoder="mlp")


def test_class_balanced_weights_by_hand():
    from latentdiff.classification.methods import class_balanced_weights

    # beta 0.5: 1/E_n = 0.5 / (1 - 0.5^n): n = 1 -> 1, n = 2 -> 2/3; normalised to sum 2
    w = class_balanced_weights([1, 2], beta=0.5)
    assert w.tolist() == pytest.approx([2 * 1 / (5 / 3), 2 * (2 / 3) / (5 / 3)])
