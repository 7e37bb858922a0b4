"""Benchmarks: babelir beside its peers, one run per command (docs/benchmarks.md)."""

from pathlib import Path

XQUADR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "xquad-r"
"""The shared XQuAD-R source directory (``../shared/data/xquad-r`` beside the repository): the
default ``--data`` of every benchmark."""
