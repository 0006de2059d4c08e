"""Put issue 11's section into docs/benchmarks.md (after the introduction, before issue 10's
section): its introduction, the goals and their measurement (docs/results/issue-11/goals.md,
written from the figures of the files beside it), the cost and generator table
(docs/results/issue-11/cost.md, scripts/issue11_cost.py) and the few-step sampler table
(docs/results/issue-11/samplers/summary.md, scripts/issue11-samplers.py). scripts/benchmarks.sh
calls it after regenerating the document, so the section is never lost.

    python scripts/issue11_section.py
"""

from pathlib import Path

DOC = Path("docs/benchmarks.md")
RESULTS = Path("docs/results/issue-11")
INTRO = """# Issue 11: cost, cheap generators, few-step samplers

Measured with `bash scripts/issue11-benchmarks.sh` (three streams side by side on the 2 cores,
one torch thread each, as issue 10's runs; the helper engineers' sessions shared the machine for
part of it, so seconds compare stages *within* one run only), `bash scripts/issue11-timing.sh`
(the goals' time ratios: one run at a time on the quiet machine, torch's default threads; its
table is `docs/results/issue-11/timing.md`) and `bash scripts/issue11-samplers.sh`. The small
files behind every figure are in `docs/results/issue-11/`.
"Added time / network time": LatentDiff's sampler fit (generator, priorities, gate), generation
and gate, and head retraining (`stage_seconds` in `runs.json`), divided by the vanilla
network's training time in the same run, per seed, mean ± std. The "before" rows are issue 10's
runs of the same data sets and seeds (`docs/results/issue-10/`), made with the old defaults
(512-wide, 3-block denoiser, 2,000 steps, DDPM over 50 steps) on the very same networks (their
vanilla errors are identical, checked by the script). The Table 1 section below and issue 10's
section were measured with those old defaults. The speed report is in `docs/speed.md`; Ray and
torchrun in `docs/scaling.md`.
"""
SAMPLERS = """## Few-step samplers (California Housing and STS-B-DIR / MiniLM, 3 seeds)

Each seed's network and diffusion model are trained once and sampled with every (sampler,
steps); the reference is seed 000's DDPM over all T = 50 steps. Command: `bash
scripts/issue11-samplers.sh`; files: `docs/results/issue-11/samplers/`.
"""
SPEED = """## Speed (`latentdiff speed`)

`latentdiff speed` measures this machine's float32 matmul rate and the diffusion model's
training and generation throughput as a fraction of the FLOP-count roofline that rate allows,
beside seed 000's Tables 4-5, plus SMOTER / SMOGN against the `smogn` package and streaming
generation of 1,000,000 2048-d features to disk. Method, commands and the figures:
`docs/speed.md`; result files: `docs/results/issue-11/speed/`. In short (one thread of the
2-core machine, other sessions running; `speed-2.md`): generation of the seed-000-sized denoiser
(1,024 x 4, 13.2 M parameters) at 2048-d ran at 50 to 66 % of the roofline at batches 64 to
4,096 (goal 50 %: met; the batch-1,024 row measured again alone, `speed-2048-batch1024.md`);
latentdiff's SMOGN took 0.0063 s on 3,000 California rows against 24.9 s for the `smogn`
package; 1,000,000 synthetic 2048-d features were generated, gated, written to disk (7.6 GiB)
and read back for a head epoch at a peak RSS of 1,390 MB (goal: under 2 GB; a cheap denoiser
with T = 2, as stated there).
"""
BEFORE = "\n# Issue 10:"


def render(doc: str) -> str:
    """``doc`` with issue 11's section (re)built from the committed files, before issue 10's."""
    if "# Issue 11:" in doc:  # replace an earlier copy
        doc = doc[: doc.index("# Issue 11:")].rstrip("\n") + "\n" + doc[doc.index(BEFORE) :]
    parts = [INTRO.strip(), (RESULTS / "goals.md").read_text().strip()]
    parts.append("## Cost and generators\n\n" + (RESULTS / "cost.md").read_text().strip())
    samplers = RESULTS / "samplers" / "summary.md"
    if samplers.exists():
        parts += [SAMPLERS.strip(), samplers.read_text().replace("### ", "#### ").strip()]
    parts.append(SPEED.strip())
    at = doc.index(BEFORE)
    return doc[:at].rstrip("\n") + "\n\n" + "\n\n".join(parts) + "\n" + doc[at:]


def main() -> None:
    DOC.write_text(render(DOC.read_text()))


if __name__ == "__main__":
    main()
