"""Seed 000's own speed figures (LatentDiff, app. A "Computational cost analysis"), quoted as
printed, for the speed report to show beside this machine's. Measured there on an NVIDIA RTX
6000 Ada GPU (48 GB) with the 12.9 M-parameter denoiser on 2048-d ResNet-50 features."""

SOURCE = (
    "seed 000 (LatentDiff), app. A 'Computational cost analysis': Table 4(b) diffusion "
    "micro-benchmarks, Table 4(c) model specifications, Table 5(a) LatentDiff generation; "
    "NVIDIA RTX 6000 Ada GPU"
)

#: Table 4(c): the diffusion model
PARAMETERS = 12.9e6
FLOPS_PER_STEP = "0.05G/step"

#: Table 4(b): training (batch size, forward ms, backward ms, total ms, samples/s)
TRAINING = [
    {"batch": 128, "fwd_ms": 0.75, "bwd_ms": 5.39, "total_ms": 6.14, "samples_per_s": 20_836},
    {"batch": 256, "fwd_ms": 0.70, "bwd_ms": 1.72, "total_ms": 2.43, "samples_per_s": 105_479},
]  # fmt: skip

#: Table 5(a): generation (timesteps T, batch size, samples/s, ms/sample, hours for 1 M)
GENERATION = [
    {"timesteps": 20, "batch": 32, "samples_per_s": 3_292, "ms_sample": 0.30, "hours_1m": 0.084},
    {"timesteps": 20, "batch": 64, "samples_per_s": 6_639, "ms_sample": 0.15, "hours_1m": 0.042},
    {"timesteps": 50, "batch": 32, "samples_per_s": 1_339, "ms_sample": 0.75, "hours_1m": 0.208},
    {"timesteps": 50, "batch": 64, "samples_per_s": 2_817, "ms_sample": 0.36, "hours_1m": 0.099},
    {"timesteps": 100, "batch": 32, "samples_per_s": 697, "ms_sample": 1.43, "hours_1m": 0.398},
    {"timesteps": 100, "batch": 64, "samples_per_s": 1_393, "ms_sample": 0.72, "hours_1m": 0.199},
]  # fmt: skip
