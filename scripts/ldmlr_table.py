"""Mean +- std over seeds and paired differences against ``ce`` of the LDMLR run files:
``python scripts/ldmlr_table.py docs/results/issue-12/ldmlr/mnist-if100-seed*.json``."""

import json
import sys
from collections import defaultdict

import numpy as np

vals = defaultdict(dict)  # (method, region, metric) -> {seed: value}
for path in sys.argv[1:]:
    for r in json.load(open(path))["records"]:
        vals[(r["method"], r["region"], r["metric"])][r["seed"]] = r["value"]
methods = list(dict.fromkeys(k[0] for k in vals))
for metric in ("accuracy", "macro_f1"):
    print(f"\n{metric} (%), mean +- std over seeds; [paired difference vs ce]")
    print(f"| method | {' | '.join(('all', 'many', 'medium', 'few'))} |")
    print("|---|---|---|---|---|")
    for m in methods:
        cells = []
        for region in ("all", "many", "medium", "few"):
            v = vals.get((m, region, metric), {})
            seeds = sorted(s for s in v if v[s] is not None)
            if not seeds:
                cells.append("-")
                continue
            a = 100 * np.array([v[s] for s in seeds])
            cell = f"{a.mean():.1f} ± {a.std(ddof=1) if len(a) > 1 else 0:.1f}"
            if m != "ce":
                base = vals[("ce", region, metric)]
                d = 100 * np.array([v[s] - base[s] for s in seeds])
                cell += f" [{d.mean():+.1f} ± {d.std(ddof=1) if len(d) > 1 else 0:.1f}]"
            cells.append(cell)
        print(f"| {m} | {' | '.join(cells)} |")
print(f"\nseeds: {len(sys.argv) - 1} files")
