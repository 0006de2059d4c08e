"""latentdiff: deep imbalanced regression with feature-space diffusion augmentation."""

__version__ = "0.1.0"
