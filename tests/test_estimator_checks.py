"""scikit-learn's estimator checks over every sampler the project exposes (issue 4)."""

import warnings

from sklearn.utils.estimator_checks import parametrize_with_checks

from latentdiff.samplers import SMOGN, SMOTER, LatentDiffSampler

TINY = {"n_steps": 20, "hidden_dim": 16, "n_blocks": 1, "embed_dim": 8, "batch_size": 32}


@parametrize_with_checks(
    [
        LatentDiffSampler(n_bins=3, diffusion=TINY, random_state=0),
        SMOTER(random_state=0),
        SMOGN(random_state=0),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
