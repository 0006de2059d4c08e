"""A control generator for LDMLR's stage 2: per class, z ~ N(mu_y, Sigma_y) with the mean and
the OAS-shrunk covariance of the class's encoded features (the project's ``gaussian`` generator,
:class:`latentdiff.generators.gaussian.FeatureGaussian`, one bin per class). Selected by
``LDMLRSettings(generator="gaussian")``; it says how much of LDMLR's gain needs the diffusion
model (a generator that only knows each class's first two moments).

Classes are not ordered, so the regression generator's borrowing from neighbouring bins (by label
distance) has no meaning here: every class must have the two rows a covariance needs, and a class
with fewer is refused (``min_rows = 2``: nothing is ever borrowed).
"""

from __future__ import annotations

import numpy as np

from ..generators.gaussian import FeatureGaussian
from ..settings import GaussianConfig


class ClassGaussian:
    """p(z | y) = N(mu_y, Sigma_y) for class indices y (``fit(Z, y)``, ``sample(y)``), the same
    interface as :class:`latentdiff.classification.class_diffusion.ClassFeatureDiffusion`."""

    name = "class-gaussian"

    def __init__(self, shrinkage: str = "oas", random_state: int | None = 0) -> None:
        self._g = FeatureGaussian(GaussianConfig(min_rows=2, shrinkage=shrinkage), random_state)

    def fit(self, Z, y) -> ClassGaussian:
        y = np.asarray(y)
        classes, counts = np.unique(y, return_counts=True)
        if counts.size and counts.min() < 2:
            k = classes[np.argmin(counts)]
            raise ValueError(f"the gaussian generator needs at least 2 training rows per class "
                             f"(a covariance); class {k} has {counts.min()}")  # fmt: skip
        self._g.fit(Z, y.astype(np.float64))
        self.classes_ = classes
        return self

    def sample(self, y, random_state: int | None = None) -> np.ndarray:
        y = np.asarray(y)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"no training rows for class(es) {unknown.tolist()}")
        return self._g.sample(y.astype(np.float64), random_state=random_state)
