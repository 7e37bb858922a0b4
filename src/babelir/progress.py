"""Progress display for long work: a tqdm bar on a terminal, nothing otherwise or with ``quiet``."""

from __future__ import annotations

import sys


def progress(iterable=None, *, total: int | None = None, desc: str = "", unit: str = "it", quiet: bool = False):
    """Wrap ``iterable`` (or make a manual bar when None) in a progress bar shown on stderr's terminal."""
    from tqdm.auto import tqdm

    disable = quiet or not sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, dynamic_ncols=True, leave=False)
