"""Reports from run directories: reading them and their statistics (:mod:`.runs`), the papers'
published figures (:mod:`.published`), results tables (:mod:`.tables`), the detailed and the
Table-1-shaped sections (:mod:`.detail`, :mod:`.grid`) and ``docs/benchmarks.md``
(:mod:`.document`, the ``latentdiff report`` command)."""
