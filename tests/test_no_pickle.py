"""No pickle in what the project writes or reads (issue 4), checked on its source: every
``np.load`` passes ``allow_pickle=False``, every ``torch.load`` passes ``weights_only=True``, and
nothing calls a pickling reader or writer (``pickle.load(s)``, ``torch.save``, ``pd.read_pickle``,
``to_pickle``, ``joblib``, ``np.save(..., allow_pickle=True)``)."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "latentdiff"
FILES = sorted(SRC.rglob("*.py"))

FORBIDDEN = {"pickle.load", "pickle.loads", "pickle.dump", "pickle.dumps", "torch.save",
             "pd.read_pickle", "pandas.read_pickle", "joblib.load", "joblib.dump"}  # fmt: skip


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return "?"


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def _problems(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name, where = _name(node.func), f"{path.name}:{node.lineno}"
        if name in FORBIDDEN or name.endswith(".to_pickle"):
            out.append(f"{where}: {name}")
        elif name in ("np.load", "numpy.load") and _keyword(node, "allow_pickle") is not False:
            out.append(f"{where}: np.load without allow_pickle=False")
        elif name == "torch.load" and _keyword(node, "weights_only") is not True:
            out.append(f"{where}: torch.load without weights_only=True")
        elif name in ("np.save", "numpy.save") and _keyword(node, "allow_pickle") is not False:
            out.append(f"{where}: np.save without allow_pickle=False")
    return out


def test_the_source_is_found():
    assert len(FILES) > 30 and (SRC / "io.py") in FILES


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SRC)) for p in FILES])
def test_no_pickling_reader_or_writer(path):
    assert _problems(path) == []


def test_the_checker_catches_what_it_looks_for(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text("import numpy as np, torch\nnp.load('a')\ntorch.load('b')\n"
                   "torch.load('c', weights_only=True)\ndf.to_pickle('d')\n")  # fmt: skip
    assert [p.split(": ", 1)[1] for p in _problems(bad)] == [
        "np.load without allow_pickle=False",
        "torch.load without weights_only=True",
        "df.to_pickle",
    ]
