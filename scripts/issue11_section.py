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
part of it, so seconds compare stages *within* one run only) and `bash
scripts/issue11-samplers.sh`. The small files behind every figure are in `docs/results/issue-11/`.
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
BEFORE = "\n# Issue 10:"


def main() -> None:
    doc = DOC.read_text()
    if "# Issue 11:" in doc:  # replace an earlier copy
        doc = doc[: doc.index("# Issue 11:")].rstrip("\n") + "\n" + doc[doc.index(BEFORE) :]
    parts = [INTRO.strip(), (RESULTS / "goals.md").read_text().strip()]
    parts.append("## Cost and generators\n\n" + (RESULTS / "cost.md").read_text().strip())
    samplers = RESULTS / "samplers" / "summary.md"
    if samplers.exists():
        parts += [SAMPLERS.strip(), samplers.read_text().replace("### ", "#### ").strip()]
    at = doc.index(BEFORE)
    DOC.write_text(doc[:at].rstrip("\n") + "\n\n" + "\n\n".join(parts) + "\n" + doc[at:])


if __name__ == "__main__":
    main()
