"""Alignment probes on constructed embeddings whose answers are known."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from babelir.analysis.probes import (language_probe, remove_language_means, token_neighbour_scripts,  # noqa: E402
                                     translation_pairs)


def _shifted(seed=0, n=120, dim=16):
    """Three languages: the same content vectors, each language shifted by its own offset."""
    rng = np.random.default_rng(seed)
    content = rng.normal(size=(n, dim))
    offsets = {lang: rng.normal(scale=3.0, size=dim) for lang in ("ar", "en", "th")}
    vectors = np.concatenate([content + offsets[lang] for lang in offsets])
    langs = [lang for lang in offsets for _ in range(n)]
    return vectors, langs, content


def test_language_probe_finds_the_offset_and_loses_it_after_the_correction():
    vectors, langs, _ = _shifted()
    assert language_probe(vectors, langs) > 0.95
    assert language_probe(vectors, langs, correct=True) < 0.5  # chance is 1/3
    assert np.allclose(remove_language_means(vectors, langs)[:120].mean(0), 0, atol=1e-5)


def test_translation_pairs_prefer_the_translation():
    rng = np.random.default_rng(1)
    en = rng.normal(size=(50, 8))
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    rows = translation_pairs({"en": unit(en), "de": unit(en + 0.1 * rng.normal(size=en.shape))})
    assert rows["de"]["mining"] == 1.0 and rows["de"]["translation"] > rows["de"]["random"] + 0.5


def test_token_neighbourhoods_count_scripts():
    pieces = ["▁cat", "▁dog", "▁кот", "▁пёс", "▁猫", "▁狗", "▁1", "▁2"]
    mixed = np.eye(8)[[0, 0, 0, 0, 0, 0, 1, 1]] + 0.01 * np.arange(8)[:, None]  # all words near each other
    import babelir.analysis.probes as probes

    probes.NEIGHBOURS, saved = 3, probes.NEIGHBOURS
    try:
        assert token_neighbour_scripts(mixed, pieces, sample=6) >= 2.0
        probes.NEIGHBOURS = 1
        separate = np.eye(8)[[0, 0, 1, 1, 2, 2, 3, 3]]  # each word's nearest is its same-script partner
        assert token_neighbour_scripts(separate, pieces, sample=6) == 1.0
    finally:
        probes.NEIGHBOURS = saved
