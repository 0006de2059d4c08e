"""Parameter and FLOP counts of the denoiser g_theta(z_t, y, t) (:class:`Denoiser`), the
numbers the speed report's roofline divides by.

One multiply-add is 2 FLOPs. Only the matrix products are counted (the ``nn.Linear`` layers),
as ``torch.utils.flop_counter.FlopCounterMode`` counts them; LayerNorm, SiLU, the sinusoidal
embedding, bias adds and the scheduler's elementwise update are left out (a few FLOPs per
activation, under 1 % of the products at the sizes the report measures). The counts are per
feature row and checked against FlopCounterMode in ``tests/test_speed.py``.

Layers, per row (m features, H hidden, E embedding, B residual blocks):

=================  ==========  ==================================================
layer              forward     backward (training)
=================  ==========  ==================================================
label MLP          E + E^2     weights only for Linear(1, E) (y needs no gradient)
time Linear        E^2         weights only (the sinusoidal input needs none)
input_proj         m H         weights only (z_t needs no gradient)
block b: cond      E H         weights and input (e feeds every block)
block b: fc1, fc2  2 H^2       weights and input
out_proj           H m         weights and input
=================  ==========  ==================================================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DenoiserSize:
    """The shape of a :class:`latentdiff.generators.diffusion.Denoiser`."""

    m: int  # feature dimension
    hidden_dim: int
    n_blocks: int
    embed_dim: int = 128

    def _macs(self) -> dict[str, int]:
        """Multiply-adds per row of each group of layers in one forward pass."""
        m, H, B, E = self.m, self.hidden_dim, self.n_blocks, self.embed_dim
        return {
            "label": E + E * E,  # Linear(1, E), Linear(E, E)
            "time": E * E,  # Linear(E, E) on SinusoidalPE(t)
            "input": m * H,
            "blocks": B * (E * H + 2 * H * H),  # cond, fc1, fc2
            "output": H * m,
        }

    def parameters(self) -> int:
        """Trainable parameters: weights, biases and LayerNorm scales and shifts."""
        m, H, B, E = self.m, self.hidden_dim, self.n_blocks, self.embed_dim
        label = (E + E) + (E * E + E) + 2 * E  # Linear(1, E), Linear(E, E), LayerNorm(E)
        time = E * E + E
        block = 2 * H + (E * H + H) + 2 * (H * H + H)  # LayerNorm, cond, fc1, fc2
        return label + time + (m * H + H) + B * block + 2 * H + (H * m + m)

    def forward_flops(self) -> int:
        """FLOPs of one forward pass, per row: 2 x the multiply-adds of the products."""
        return 2 * sum(self._macs().values())

    def training_flops(self) -> int:
        """FLOPs of one training step, per row: the forward pass, then the backward pass with
        a weight gradient for every product and an input gradient where the input needs one
        (not for the first layer of each input: z_t, y and the time encoding)."""
        macs = self._macs()
        total = sum(macs.values())
        no_input_grad = self.embed_dim + macs["time"] + macs["input"]  # Linear(1, E), time, input
        return 2 * (total + total + (total - no_input_grad))  # forward, weight and input grads

    def generation_flops(self, timesteps: int) -> int:
        """FLOPs to generate one row: ``timesteps`` forward passes (ancestral sampling)."""
        return timesteps * self.forward_flops()


def size_for_parameters(
    m: int,
    target: float,
    widths=range(128, 4097, 128),
    blocks=range(1, 9),
    embed_dim: int = 128,
) -> DenoiserSize:
    """The (hidden width, blocks) of the grid whose parameter count is closest to ``target``."""
    sizes = [DenoiserSize(m, h, b, embed_dim) for h in widths for b in blocks]
    return min(sizes, key=lambda s: abs(s.parameters() - target))
