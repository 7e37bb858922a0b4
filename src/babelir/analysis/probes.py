"""Cross-lingual alignment probes for any encoder, on a multilingual collection with aligned queries.

- **Language probe**: a logistic-regression classifier's accuracy (5-fold cross-validation) at
  telling a sentence's language from its embedding, before and after babelir's language-bias
  correction (each language's mean vector removed, as dense search does). Chance is 1 / languages.
- **Translation pairs**: per language, the mean cosine of each query with its English translation
  against a random English query, and how often the translation is the nearest English query
  (bitext mining accuracy).
- **Token neighbourhoods** (for an ``hf:`` model): the average number of writing systems among each
  sampled token's 50 nearest input embeddings.
- **Projection**: a 2-D PCA of sentence embeddings coloured by language, before and after the
  correction (PNG).

Input: documents and aligned queries (XQuAD-R: queries share the XQuAD id across languages), an
encoder. Output: :class:`ProbeReport` and the PNG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from babelir.text.scripts import script_of

NEIGHBOURS = 50


@dataclass
class ProbeReport:
    languages: list[str]
    language_probe_before: float = 0.0
    language_probe_after: float = 0.0
    translation: dict[str, dict[str, float]] = field(default_factory=dict)
    token_scripts: float | None = None
    token_sample: int = 0

    def lines(self) -> list[str]:
        out = [f"language probe (logistic regression, 5-fold, {len(self.languages)} languages, chance "
               f"{1 / len(self.languages):.3f}): accuracy {self.language_probe_before:.3f} before the correction, "
               f"{self.language_probe_after:.3f} after",
               "", "lang  cos(translation)  cos(random)  nearest is translation"]
        out += [f"{lang:<4}  {row['translation']:>16.3f}  {row['random']:>11.3f}  {row['mining']:>22.3f}"
                for lang, row in self.translation.items()]
        if self.token_scripts is not None:
            out += ["", f"token neighbourhoods: {self.token_scripts:.2f} writing systems on average among the "
                        f"{NEIGHBOURS} nearest input embeddings of {self.token_sample} sampled tokens"]
        return out


def remove_language_means(vectors: np.ndarray, langs: list[str]) -> np.ndarray:
    """Each vector minus its language's mean (the first step of dense search's correction)."""
    out = vectors.astype(np.float32).copy()
    labels = np.asarray(langs)
    for lang in set(langs):
        rows = labels == lang
        out[rows] -= out[rows].mean(0)
    return out


def language_probe(vectors: np.ndarray, langs: list[str], correct: bool = False, seed: int = 0) -> float:
    """Mean 5-fold accuracy of a logistic regression predicting the language from the vector.

    With ``correct``, each fold's language means are estimated on its training part and removed from
    training and held-out vectors alike (documents' languages are known, as in dense search).
    Means estimated on all rows would leak: a held-out row's language mean would then lean away
    from its training rows, and the probe would score below chance."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(langs)
    scores = []
    for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(vectors, labels):
        x_train, x_test = vectors[train].astype(np.float32), vectors[test].astype(np.float32)
        if correct:
            for lang in set(langs):
                mean = x_train[labels[train] == lang].mean(0)
                x_train[labels[train] == lang] -= mean
                x_test[labels[test] == lang] -= mean
        model = LogisticRegression(max_iter=2000).fit(x_train, labels[train])
        scores.append(float((model.predict(x_test) == labels[test]).mean()))
    return float(np.mean(scores))


def translation_pairs(by_lang: dict[str, np.ndarray], pivot: str = "en", seed: int = 0) -> dict[str, dict[str, float]]:
    """Per language: mean cosine with the aligned pivot row, with a random pivot row, and mining accuracy."""
    rng = np.random.default_rng(seed)
    pivot_vectors = by_lang[pivot]
    out = {}
    for lang, vectors in by_lang.items():
        if lang == pivot:
            continue
        sims = vectors @ pivot_vectors.T
        order = rng.permutation(len(vectors))
        out[lang] = {"translation": float(np.diag(sims).mean()),
                     "random": float(sims[np.arange(len(vectors)), order].mean()),
                     "mining": float((sims.argmax(1) == np.arange(len(vectors))).mean())}
    return out


def token_neighbour_scripts(embeddings: np.ndarray, pieces: list[str], sample: int = 2000, seed: int = 0) -> float:
    """Average number of scripts among the ``NEIGHBOURS`` nearest tokens of sampled word tokens."""
    scripts = np.array([script_of(p) for p in pieces])
    candidates = np.flatnonzero(scripts != "NONE")
    chosen = np.random.default_rng(seed).choice(candidates, size=min(sample, len(candidates)), replace=False)
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    counts = []
    for start in range(0, len(chosen), 256):
        rows = chosen[start:start + 256]
        sims = unit[rows] @ unit.T
        sims[np.arange(len(rows)), rows] = -np.inf
        nearest = np.argpartition(-sims, NEIGHBOURS, axis=1)[:, :NEIGHBOURS]
        counts += [len(set(scripts[n]) - {"NONE"}) for n in nearest]
    return float(np.mean(counts))


def projection_png(before: np.ndarray, after: np.ndarray, langs: list[str], path: Path, per_lang: int = 300) -> Path:
    """Two PCA scatter plots (before / after the correction), a colour per language."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = np.asarray(langs)
    rng = np.random.default_rng(0)
    keep = np.concatenate([rng.permutation(np.flatnonzero(labels == lang))[:per_lang] for lang in sorted(set(langs))])
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    for ax, vectors, title in ((axes[0], before, "before the correction"), (axes[1], after, "after (language means removed)")):
        points = vectors[keep] - vectors[keep].mean(0)
        _, _, components = np.linalg.svd(points, full_matrices=False)
        xy = points @ components[:2].T
        colours = plt.get_cmap("tab20")
        for i, lang in enumerate(sorted(set(langs))):
            rows = labels[keep] == lang
            ax.scatter(xy[rows, 0], xy[rows, 1], s=4, alpha=0.6, label=lang, color=colours(i % 20))
        ax.set_title(f"sentence embeddings, PCA: {title}")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[1].legend(markerscale=3, fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_probes(docs, queries, encoder, out_dir: Path, model_dir: Path | None = None) -> ProbeReport:
    """All probes over ``docs`` (language probe, projection) and aligned ``queries`` (translation pairs)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    langs = [d.lang for d in docs]
    vectors = encoder.encode_passages([d.text for d in docs])
    corrected = remove_language_means(vectors, langs)
    report = ProbeReport(sorted(set(langs)), language_probe(vectors, langs), language_probe(vectors, langs, True))
    by_lang: dict[str, dict[str, str]] = {}
    for q in queries:
        by_lang.setdefault(q.lang, {})[q.id.split("-", 1)[1]] = q.text
    shared = sorted(set.intersection(*(set(v) for v in by_lang.values())))
    report.translation = translation_pairs({lang: encoder.encode_queries([texts[i] for i in shared])
                                            for lang, texts in by_lang.items()})
    projection_png(vectors, corrected, langs, out_dir / "projection.png")
    if model_dir is not None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        weights = load_file(str(Path(model_dir) / "model.safetensors"))
        table = next(v for k, v in weights.items() if k.endswith("word_embeddings.weight"))
        tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        pieces = [tokenizer.id_to_token(i) or "" for i in range(table.shape[0])]
        report.token_scripts = token_neighbour_scripts(table, pieces)
        report.token_sample = min(2000, sum(script_of(p) != "NONE" for p in pieces))
    (out_dir / "probes.txt").write_text("\n".join(report.lines()) + "\n", encoding="utf-8")
    return report
