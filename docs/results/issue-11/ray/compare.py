"""Compare two run directories' config.json, results.json and runs.json with every entry whose
key names seconds left out (wall time is the one thing allowed to differ)."""

import json
import sys
from pathlib import Path


def without_seconds(x):
    if isinstance(x, dict):
        return {k: without_seconds(v) for k, v in x.items() if "seconds" not in k}
    if isinstance(x, list):
        return [without_seconds(v) for v in x]
    return x


a, b = map(Path, sys.argv[1:3])
for name in ("config.json", "results.json", "runs.json"):
    same = without_seconds(json.loads((a / name).read_text())) == without_seconds(
        json.loads((b / name).read_text())
    )
    print(f"{name}: {'identical' if same else 'DIFFERENT'} but for seconds")
