"""The package's shape: one home per name (no module mirrors another's name, no two public
classes share a name), the public API in one import, and the light modules staying light."""

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

import latentdiff

SRC = Path(latentdiff.__file__).resolve().parent


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_mirrors_another_modules_name():
    # __init__ and base are the package conventions (a subpackage's front door and its base
    # classes); every other module name says one idea, once
    names = Counter(p.stem for p in _modules() if p.stem not in ("__init__", "base"))
    assert [n for n, k in names.items() if k > 1] == []


def test_no_two_public_classes_share_a_name():
    homes: dict[str, list[str]] = {}
    for path in _modules():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                homes.setdefault(node.name, []).append(str(path.relative_to(SRC)))
    assert {k: v for k, v in homes.items() if len(v) > 1} == {}


def test_the_public_api_is_one_import():
    names = ["LatentDiffSampler", "SMOTER", "SMOGN", "LatentDiffPipeline", "load_dataset",
             "make_encoder", "METHODS"]  # fmt: skip
    assert set(names) <= set(latentdiff.__all__)
    for name in latentdiff.__all__:
        assert getattr(latentdiff, name) is not None
    from latentdiff import METHODS, SMOGN, SMOTER, LatentDiffSampler

    assert {"latentdiff", "lds", "smogn"} <= set(METHODS)
    assert all(hasattr(c, "fit_resample") for c in (SMOTER, SMOGN, LatentDiffSampler))


def test_the_light_modules_do_not_import_torch():
    code = (
        "import sys, latentdiff, latentdiff.settings, latentdiff.data.registry, "
        "latentdiff.validation; print(sorted(m for m in ('torch', 'diffusers', 'scipy', "
        "'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_nothing_imports_the_command_line():
    for path in _modules():
        if path.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.endswith("cli"), path
