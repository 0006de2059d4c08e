"""``latentdiff report DIR ... --out FILE.html``: one self-contained page. Checked: well-formed
HTML (every tag closed in order), every <img> a data: URI holding a PNG, no external asset, the
results tables' numbers equal results.json's means and standard deviations (computed here with
numpy), the feature-quality analysis of every LatentDiff-family method (its figures and its
numbers), a run without analysis files and a classification run rendered with a note, the
side-by-side grid, the CLI's refusals; and, where a Chromium can be found, the page rendered in
headless Chromium: every image loaded (naturalWidth > 0) and the tables present, with a
screenshot kept in test-artifacts/report-page.png."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentdiff.analysis.run import analyse_run
from latentdiff.bench import run_bench
from latentdiff.cli import main
from latentdiff.reporting.page import report_page
from latentdiff.settings import BenchConfig, HeadConfig, SamplerConfig, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
CALIFORNIA = ROOT / "docs" / "results" / "issue-13" / "analysis" / "california-housing"
CLASSIFICATION = ROOT / "docs" / "results" / "issue-12" / "clsbench" / "mnist-if100-seed0"
ARTIFACTS = ROOT / "test-artifacts"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """A strict reading: a stack of open elements (a closing tag must close the innermost one),
    the <img> sources, and every table as rows of cell texts, under the last h2 id seen."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.imgs, self.tables, self.ids = [], [], [], [], []
        self.section, self._cell, self._heading = None, None, None
        self.headings: list[tuple[str | None, str]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "h2":
            self.section = a.get("id")
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "table":
            after = self.headings[-1][1] if self.headings else ""
            self.tables.append({"section": self.section, "rows": [], "after": after})
        if tag == "tr":
            self.tables[-1]["rows"].append([])
        if tag in ("td", "th"):
            self._cell = ""
        if tag in ("h2", "h3", "h4"):
            self._heading = ""
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag in ("td", "th"):
            self.tables[-1]["rows"][-1].append(self._cell.strip())
            self._cell = None
        if tag in ("h2", "h3", "h4"):
            self.headings.append((self.section, self._heading.strip()))
            self._heading = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._heading is not None:
            self._heading += data


def _tables(page: Page, section: str, after: str) -> list[list[list[str]]]:
    return [t["rows"] for t in page.tables if t["section"] == section and t["after"] == after]


FAST = dict(
    seeds=(0,),
    encoder="mlp",
    encoder_options={"hidden_dims": [16]},
    train=TrainConfig(epochs=3, batch_size=64, patience=None),
    sampler=SamplerConfig(n_bins=5, ratio=0.5),
    head=HeadConfig(epochs=2, batch_size=64, patience=None),
    progress=False,
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A fresh tiny run with feature files (vanilla, latentdiff-gaussian, latentdiff-interp: no
    generator training), the same run without them (an older run), and a classification run
    made by hand (records of accuracy and macro-F1)."""
    from conftest import long_tailed_frame

    from latentdiff.data.tabular import dataset_from_frame

    base = tmp_path_factory.mktemp("report")
    ds = dataset_from_frame(long_tailed_frame(), "target", name="tiny", eval_n_bins=10, cap=10)
    methods = ("vanilla", "latentdiff-gaussian", "latentdiff-interp")
    run_bench(BenchConfig(methods=methods, analysis_rows=150, **FAST), base / "tiny", dataset=ds)
    old = shutil.copytree(base / "tiny", base / "old")
    shutil.rmtree(old / "analysis")
    return {"tiny": base / "tiny", "old": old, "cls": _classification_run(base / "cls")}


def _classification_run(path: Path) -> Path:
    rng = np.random.default_rng(0)
    records = [{"dataset": "digits-lt", "method": m, "seed": s, "region": r, "metric": k,
                "value": float(rng.uniform(0.5, 0.99))}
               for s in (0, 1) for m in ("ce", "ldmlr") for r in ("all", "many", "medium", "few")
               for k in ("accuracy", "macro_f1")]  # fmt: skip
    runs = [{"method": m, "seed": s, "seconds": 2.0} for s in (0, 1) for m in ("ce", "ldmlr")]
    config = {"format": 3, "encoder_name": "mlp",
              "dataset_summary": {"name": "digits-lt", "n_train": 300, "n_val": 50, "n_test": 100,
                                  "regions": {"many": [0], "medium": [1], "few": [2]},
                                  "test_region_counts": {"many": 10, "medium": 10, "few": 10}},
              "bench": {"task": "classification", "methods": ["ce", "ldmlr"], "seeds": [0, 1],
                        "table_metrics": ["accuracy", "macro_f1"]}}  # fmt: skip
    path.mkdir()
    for name, data in (("results.json", records), ("runs.json", runs), ("config.json", config)):
        (path / name).write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def page(runs):
    before = sorted(p.relative_to(CALIFORNIA) for p in CALIFORNIA.rglob("*"))
    html, problems = report_page([runs["tiny"], CALIFORNIA, runs["old"], runs["cls"]], tsne=False)
    assert sorted(p.relative_to(CALIFORNIA) for p in CALIFORNIA.rglob("*")) == before  # read only
    return html, Page(html), problems


def test_page_is_well_formed_and_self_contained(page):
    html, p, _ = page
    assert p.errors == [] and p.stack == []
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    assert len(p.ids) == len(set(p.ids))  # anchors are unique
    for bad in ("http://", "https://", "<script", "<link", "@import", "url(", 'src="file'):
        assert bad not in html
    assert len(p.imgs) >= 10
    for src in p.imgs:
        head, _, data = src.partition(",")
        assert head == "data:image/png;base64"
        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as im:
            im.verify()
            assert im.format == "PNG"


def _parse(cell: str) -> tuple[float, float | None]:
    m = re.fullmatch(r"(-?[\d,.]+)(?: ± ([\d,.]+))?", cell)
    assert m, cell
    return float(m[1].replace(",", "")), None if m[2] is None else float(m[2].replace(",", ""))


@pytest.mark.parametrize("which", ["tiny", "california"])
def test_results_tables_hold_results_json(page, runs, which):
    """Every (method, metric, region) mean ± std of results.json, computed here, is in its
    run's table under the metric's heading."""
    _, p, _ = page
    run_dir, section = (runs["tiny"], "run-1") if which == "tiny" else (CALIFORNIA, "run-2")
    records = json.loads((run_dir / "results.json").read_text())
    metrics = json.loads((run_dir / "config.json").read_text())["bench"]["table_metrics"]
    for metric in metrics:
        arrow = "lower" if metric in ("mae", "mse", "gm") else "higher"
        (rows,) = _tables(p, section, f"{metric.upper()} ({arrow} is better)")
        assert rows[0] == ["method", "all", "many", "medium", "few"]
        by_method = {r[0]: r[1:] for r in rows[1:]}
        for method in dict.fromkeys(r["method"] for r in records):
            for j, region in enumerate(("all", "many", "medium", "few")):
                v = [r["value"] for r in records if (r["method"], r["metric"], r["region"])
                     == (method, metric, region) and r["value"] is not None]  # fmt: skip
                mean, sd = _parse(by_method[method][j])
                assert mean == pytest.approx(np.mean(v), rel=1e-3, abs=1e-4)
                if len(v) > 1:
                    assert sd == pytest.approx(np.std(v, ddof=1), rel=1e-3, abs=1e-4)
                else:
                    assert sd is None


def test_analysis_of_every_latentdiff_method(page, runs):
    """The fresh run: tables from analyse_run and each LatentDiff-family method's figures; the
    committed California run (analysis.json, no feature files): its tables and per-bin figure,
    and a note saying why the rest is missing."""
    html, p, _ = page
    result = analyse_run(runs["tiny"])
    for method in ("latentdiff-gaussian", "latentdiff-interp"):
        for name in ("hexbin", "labels", "pca", "activations", "neighbours", "per_bin"):
            assert f"run-1-{method}-{name}" in p.ids
    assert "run-1-vanilla-hexbin" not in p.ids  # vanilla generates nothing
    (syn,) = _tables(p, "run-1", "Synthetic features against the real training sample")
    header, rows = syn[0], {(r[0], r[1]): r for r in syn[1:]}
    summary = {(e["method"], e["group"], e["metric"]): e["mean"] for e in result["summary"]}
    col = header.index("Frechet")
    for method in ("latentdiff-gaussian", "latentdiff-interp"):
        got = float(rows[(method, "overall")][col])
        assert got == pytest.approx(summary[(method, "overall", "frechet")], rel=1e-2)
    (r2,) = _tables(p, "run-1", "Test R² (mean ± std over seeds)")
    expect = {e["method"]: e["r2"] for e in result["predictions"]}
    assert {r[0]: _parse(r[1])[0] for r in r2[1:]} == pytest.approx(expect, rel=1e-3)
    saved = json.loads((CALIFORNIA / "analysis.json").read_text())
    for method in ("latentdiff", "latentdiff-gaussian", "latentdiff-interp", "pogdiff"):
        assert f"run-2-{method}-per_bin" in p.ids and f"run-2-{method}-pca" not in p.ids
    (syn,) = _tables(p, "run-2", "Synthetic features against the real training sample")
    summary = {(e["method"], e["group"], e["metric"]): e for e in saved["summary"]}
    col = syn[0].index("KL")
    rows = {(r[0], r[1]): r for r in syn[1:]}
    e = summary[("pogdiff", "few", "divergence.kl")]
    assert rows[("pogdiff", "few")][col] == f"{e['mean']:.3g} ± {e['std']:.3g}"
    assert "this directory has no feature files" in html


def test_runs_without_analysis_and_classification_runs(page):
    html, p, _ = page
    assert "No feature-quality analysis: this run directory has no analysis files" in html
    assert "No feature-quality analysis: a classification run" in html
    (acc,) = _tables(p, "run-4", "ACCURACY (higher is better)")
    assert [r[0] for r in acc[1:3]] == ["ce", "ldmlr"] and all(c != "n/a" for c in acc[1][1:])
    assert acc[3][0] == "ldmlr vs ce"  # the change against the classification baseline
    assert not any(i.startswith(("run-3-latentdiff", "run-4-ldmlr")) for i in p.ids)
    # the committed classification run of `latentdiff bench --task classification`
    html, _ = report_page([CLASSIFICATION], tsne=False)
    p = Page(html)
    assert p.errors == [] and "No feature-quality analysis: a classification run" in html
    records = json.loads((CLASSIFICATION / "results.json").read_text())
    (f1,) = _tables(p, "run-1", "MACRO_F1 (higher is better)")
    rows = {r[0]: r for r in f1[1:]}
    for r in records:
        if r["metric"] == "macro_f1" and r["region"] == "few":
            assert float(rows[r["method"]][4]) == pytest.approx(r["value"], abs=1e-4)


def test_side_by_side_grid(page, runs):
    _, p, _ = page
    assert p.ids.index("side-by-side") < p.ids.index("run-1")
    (mse,) = _tables(p, "side-by-side", "MSE (lower is better)")
    assert mse[0][0] == "method" and "1. tiny" in mse[0][1] and "2. california-housing" in mse[0]
    assert mse[1] == ["all", "many", "medium", "few"] * 3  # tiny, california, old (MSE)
    (feat,) = _tables(p, "side-by-side", "Feature quality, overall (mean ± std over seeds)")
    assert {(r[0], r[1]) for r in feat[1:]} >= {("1. tiny", "latentdiff-gaussian"),
                                                ("2. california-housing", "pogdiff")}  # fmt: skip


def test_cli_writes_the_page_and_refuses_bad_input(runs, tmp_path, capsys):
    out = tmp_path / "report.html"
    argv = ["report", str(runs["old"]), str(runs["cls"]), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["report", str(runs["old"]), "--out", str(tmp_path / "r.md")]) == 0
    assert (tmp_path / "r.md").read_text().startswith("# Benchmarks")
    capsys.readouterr()
    for argv, msg in (
        (["report", str(runs["old"]), "--out", str(tmp_path / "r.txt")], "must end in .html"),
        (["report", str(tmp_path / "none"), "--out", str(out)], "is not a run directory"),
        (["report", str(runs["old"]), "--out", "a.md", "--output", "b.md"], "give one of them"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.txt").exists()


# --- in a real browser ----------------------------------------------------------------------------
CHECK = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const out = document.createElement("pre");
  out.id = "browser-check";
  out.textContent = JSON.stringify({
    images: imgs.length,
    loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    tables: document.querySelectorAll("table").length,
    cells: [...document.querySelectorAll("td")].map(td => td.textContent).slice(0, 400),
  });
  document.body.appendChild(out);
});
</script>"""


def _browser() -> str | None:
    """Chromium (Debian's ``chromium``), or the one ``LATENTDIFF_BROWSER`` names."""
    names = [os.environ.get("LATENTDIFF_BROWSER"), "chromium", "chromium-browser",
             "google-chrome", "chrome"]  # fmt: skip
    return next((shutil.which(n) for n in names if n and shutil.which(n)), None)


def _chromium(browser: str, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-dev-shm-usage", "--virtual-time-budget=10000"]  # fmt: skip
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120)


def test_page_in_headless_chromium(request, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium found (install Debian's chromium, as .ci/run does, or set "
                    "LATENTDIFF_BROWSER): the page was not checked in a browser")  # fmt: skip
    html, p, _ = request.getfixturevalue("page")  # built only when a browser is there
    checked = tmp_path / "checked.html"
    checked.write_text(html.replace("</body>", CHECK + "\n</body>"))
    done = _chromium(browser, "--dump-dom", checked.as_uri())
    m = re.search(r'<pre id="browser-check">(.*?)</pre>', done.stdout, re.S)
    assert m, f"no result from the browser (exit {done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(m[1].replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    assert result["images"] == len(p.imgs) and result["loaded"] == result["images"]
    assert result["tables"] == len(p.tables)
    first = _tables(p, "run-1", "MSE (lower is better)")[0][1]  # a row of results.json numbers
    assert all(c in result["cells"] for c in first)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-page.png"
    shot.unlink(missing_ok=True)
    page_file = tmp_path / "page.html"
    page_file.write_text(html)
    done = _chromium(browser, f"--screenshot={shot}", "--window-size=1280,4000", page_file.as_uri())
    assert shot.is_file(), f"no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    with Image.open(shot) as im:
        assert im.size == (1280, 4000)
        colours = im.convert("L").getextrema()
        assert colours[0] < 100 < colours[1]  # text and figures drawn, not a blank page
