"""Plots of an abstention evaluation (PNG, matplotlib's Agg backend, imported when a plot is drawn):

- :func:`plot_tradeoff`: per language, NoMIRACL's hallucination rate against its error rate as the
  threshold on p sweeps 0..1, the file's own decisions marked, the issue's .15/.15 target dashed;
- :func:`plot_reliability`: per language, the smooth reliability diagram of p against "a relevant
  document is in the top k" (relplot, Błasiok & Nakkiran 2023).

Both draw a grid of small panels, one per language and one for ``all``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from babelir.evaluate.abstention import BOX, TradeoffCurve

_COLUMNS = 4


def _grid(count: int, title: str):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = min(_COLUMNS, count)
    rows = math.ceil(count / cols)
    fig = Figure(figsize=(3.2 * cols, 3.3 * rows))  # drawn by Agg, without pyplot's global state
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.suptitle(title)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _save(fig, path: str | Path) -> Path:
    import io

    from babelir.io.atomic import atomic_write_bytes

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def plot_tradeoff(curves: Mapping[str, TradeoffCurve], path: str | Path, k: int | None = None) -> Path:
    """Write the trade-off plot of :func:`babelir.evaluate.abstention.tradeoff_curve`'s ``curves``
    (language -> curve) to the PNG ``path``, atomically; returns the path. x: hallucination rate,
    y: error rate (both 0..1); a point marks the file's decisions; a language with queries of one
    kind only says so instead of a curve."""
    from matplotlib.patches import Rectangle

    top = f" in the top {k}" if k else ""
    fig, axes = _grid(len(curves), f"abstention trade-off: is a relevant document{top}?")
    for ax, (lang, curve) in zip(axes, curves.items()):
        ax.add_patch(Rectangle((0, 0), BOX, BOX, fill=False, linestyle="--", edgecolor="gray", linewidth=1))
        if curve.thresholds:
            ax.plot(curve.hallucination, curve.error, color="tab:blue", linewidth=1.5)
            h, e = curve.operating_point
            ax.plot([h], [e], marker="o", color="tab:red", markersize=6, linestyle="none")
            ax.annotate(f"({h:.2f}, {e:.2f})", (h, e), textcoords="offset points", xytext=(5, 5), fontsize=7,
                        color="tab:red")
        else:
            kind = "with" if curve.with_answer else "without"
            ax.text(0.5, 0.5, f"only queries {kind} an answer:\nno trade-off", ha="center", va="center", fontsize=8)
        ax.set_title(f"{lang} ({curve.with_answer} answer / {curve.without_answer} none)", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
        ax.set_xlabel("hallucination rate", fontsize=8)
        ax.set_ylabel("error rate", fontsize=8)
    return _save(fig, path)


def plot_reliability(labels: Mapping[str, tuple[list[float], list[bool]]], path: str | Path,
                     k: int | None = None, bootstrap: int = 50) -> Path:
    """Write reliability diagrams (language -> ``(p, found)``, as
    :func:`babelir.evaluate.abstention.found_labels` gives) to the PNG ``path``, atomically; returns the
    path; ``k`` is named in the title. Each panel is relplot's smooth reliability diagram with its smECE and a bootstrap band
    (``bootstrap`` resamples, drawn with a fixed seed so that the same input draws the same PNG); a
    language with fewer than 2 queries says so instead."""
    import warnings

    import numpy as np
    import relplot

    fig, axes = _grid(len(labels), f"reliability of p: is a relevant document in the top {k or 'k'}?")
    state = np.random.get_state()  # relplot resamples with numpy's global generator: seed it, then restore
    try:
        np.random.seed(0)
        for ax, (lang, (p, found)) in zip(axes, labels.items()):
            if len(p) < 2:
                ax.text(0.5, 0.5, "too few queries", ha="center", va="center", fontsize=8)
            else:
                with warnings.catch_warnings():  # relplot 1.0 builds its bands with a pandas call pandas 3 deprecates
                    warnings.filterwarnings("ignore", message="Passing a dict to DataFrame.from_records")
                    diagram = relplot.prepare_rel_diagram(np.asarray(p, dtype=float), np.asarray(found, dtype=float),
                                                          num_bootstrap=bootstrap)
                relplot.plot_rel_diagram(diagram, fig=fig, ax=ax, use_default_style=False)
            ax.set_title(f"{lang} ({len(p)} queries)", fontsize=9)
            ax.tick_params(labelsize=7)
            ax.set_xlabel("p", fontsize=8)
            ax.set_ylabel("share found", fontsize=8)
    finally:
        np.random.set_state(state)
    return _save(fig, path)
