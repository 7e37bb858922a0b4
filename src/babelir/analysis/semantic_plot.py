"""A word's neighbourhood in a model's input embeddings, coloured by semantic-token group.

:func:`neighbourhood_png`: a compressed model directory (it names its full source model) and a word
→ a PNG of the word's token and its ``NEIGHBOURS`` nearest tokens (cosine, in the full model's
table), projected to 2-D by PCA, each point labelled with its piece and coloured by its group.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from babelir.errors import BabelirError

NEIGHBOURS = 50
# fonts tried in order for each glyph (matplotlib ≥ 3.6 falls back per character)
FONTS = ["DejaVu Sans", "Noto Sans", "Noto Sans CJK JP", "Noto Sans Arabic", "Noto Sans Devanagari",
         "Noto Sans Thai", "Noto Sans Hebrew", "Noto Sans Armenian", "Noto Sans Georgian", "Noto Sans Ethiopic"]


def neighbourhood_png(model: str | Path, word: str, path: str | Path, neighbours: int = NEIGHBOURS) -> Path:
    """Write the neighbourhood plot of ``word``'s first token to ``path``; returns ``path``."""
    import logging

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from tokenizers import Tokenizer

    from babelir.analysis.semantic_tokens import GROUPS_INFO, TOKEN_MAP, compressed_dir, load_token_table

    directory = compressed_dir(model)
    info = json.loads((directory / GROUPS_INFO).read_text(encoding="utf-8"))
    source = Path(info["source"])
    weights = source / ("embeddings.npy" if info.get("kind") == "static" else "model.safetensors")
    if not weights.exists():
        raise BabelirError(f"{directory}: its full model {source} is gone (the plot needs its embedding table)")
    token_map = np.load(directory / TOKEN_MAP)
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    ids = [i for i in tokenizer.encode(word, add_special_tokens=False).ids if tokenizer.id_to_token(i) != "\u2581"]
    if not ids:
        raise BabelirError(f"{word!r}: the tokenizer makes no token of it")
    table = np.load(weights).astype(np.float32) if weights.suffix == ".npy" else load_token_table(source)[0]
    unit = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
    centre = ids[0]
    sims = unit @ unit[centre]
    sims[centre] = np.inf
    rows = np.argsort(-sims)[:neighbours + 1]
    points = unit[rows] - unit[rows].mean(0)
    _, _, components = np.linalg.svd(points, full_matrices=False)
    xy = points @ components[:2].T
    groups = token_map[rows]
    # colours for the 10 groups with the most members here, the word's own group first
    counts = Counter(groups.tolist())
    ranked = sorted(counts, key=lambda g: (g != token_map[centre], -counts[g]))
    order = {g: i for i, g in enumerate(ranked)}
    colours = plt.get_cmap("tab10")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # a missing fallback font is fine
    with plt.rc_context({"font.family": FONTS}):
        fig, ax = plt.subplots(figsize=(9, 7))
        for (x, y), token_id, group in zip(xy, rows, groups):
            colour = colours(order[group] % 10) if order[group] < 10 else "0.6"
            ax.scatter(x, y, color=colour, s=60 if token_id == centre else 18,
                       edgecolor="black" if token_id == centre else "none")
            ax.annotate(tokenizer.id_to_token(int(token_id)), (x, y), fontsize=7, color=colour,
                        xytext=(3, 2), textcoords="offset points")
        ax.set_title(f"{tokenizer.id_to_token(centre)} and its {neighbours} nearest input embeddings "
                     f"(PCA); colour = semantic-token group ({len(order)} groups; grey: smaller ones)")
        ax.title.set_fontsize(9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return Path(path)
