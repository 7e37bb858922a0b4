"""Semantic tokens: a model's vocabulary grouped by the cosine similarity of its input embeddings.

Tokens whose input embeddings point the same way (▁tomato, ▁tomate, 番茄 …) are put in one group by
spherical K-means; each group gets one embedding, the mean of its members'. The compressed model
keeps the tokenizer (its pieces segment text as before) and replaces the V × d embedding table by a
K × d one plus a token map (V int32: token id → group id), which ``hf:DIR`` applies before the
transformer. Special tokens (``<s>``, ``</s>``, ``<pad>``, ``<unk>``, ``<mask>``) keep groups of
their own.

- :func:`spherical_kmeans`: unit rows → group of each row (progress per iteration).
- :func:`group_table`: a (V, d) table + a ratio → token map and (K, d) group means.
- :func:`compress_model`: an ``hf:`` (or ``static:``) directory + a ratio → a compressed one of the
  same kind.
- :func:`group_members`: the members of the groups of given words in a compressed directory.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from babelir.errors import BabelirError

TOKEN_MAP = "token_map.npy"
GROUPS_INFO = "babelir_semantic_tokens.json"
# the files of an hf: directory a compressed copy keeps; sentence-transformers files are left out
# (sentence-transformers knows no token map, so it would index the smaller table with old ids)
KEPT_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "sentencepiece.bpe.model")


def load_token_table(model_dir: Path) -> tuple[np.ndarray, str]:
    """The input token embedding table (V, d) float32 of an hf: directory and its tensor name."""
    from safetensors.numpy import load_file

    path = Path(model_dir) / "model.safetensors"
    if not path.exists():
        raise BabelirError(f"{model_dir}: no model.safetensors (semantic tokens need safetensors weights)")
    for name, tensor in load_file(str(path)).items():
        if name.endswith("word_embeddings.weight"):
            return tensor.astype(np.float32), name
    raise BabelirError(f"{path}: no *word_embeddings.weight tensor")


def special_token_ids(model_dir: Path) -> list[int]:
    """Ids of the tokenizer's added (special) tokens, read from ``tokenizer.json``."""
    data = json.loads((Path(model_dir) / "tokenizer.json").read_text(encoding="utf-8"))
    return sorted(int(t["id"]) for t in data.get("added_tokens", []) if t.get("special", True))


def token_weights(model_dir: Path, vocab: int) -> np.ndarray:
    """Each token's unigram probability (``exp(score)`` of a Unigram ``tokenizer.json``), 0 past its
    vocabulary; for ``--weighting frequency``."""
    data = json.loads((Path(model_dir) / "tokenizer.json").read_text(encoding="utf-8"))
    model = data.get("model", {})
    if model.get("type") != "Unigram":
        raise BabelirError(f"{model_dir}: --weighting frequency needs a Unigram tokenizer with piece scores "
                           f"(this one is {model.get('type')})")
    weights = np.zeros(vocab, dtype=np.float64)
    scores = np.array([score for _, score in model["vocab"][:vocab]], dtype=np.float64)
    weights[:len(scores)] = np.exp(scores)
    return weights


def _has_unigram_scores(model_dir: Path) -> bool:
    data = json.loads((Path(model_dir) / "tokenizer.json").read_text(encoding="utf-8"))
    return data.get("model", {}).get("type") == "Unigram"


def spherical_kmeans(unit: np.ndarray, k: int, iterations: int = 10, seed: int = 0,
                     quiet: bool = False, weights: np.ndarray | None = None) -> np.ndarray:
    """Spherical K-means (cosine) of unit rows into ``k`` groups; returns each row's group (int64).

    Centroids start at ``k`` distinct random rows; each iteration assigns every row to its most
    similar centroid (FAISS inner-product search) and moves each centroid to the normalised mean of
    its rows. A group left empty is re-seeded with the row farthest from its centroid. With
    ``weights`` (e.g. token frequencies) the start is drawn in proportion to them and the means are
    weighted: the objective becomes the expected distortion over running text.
    """
    try:
        import faiss
    except ImportError:
        raise BabelirError("semantic tokens need FAISS: pip install 'babelir[ann]'") from None
    from babelir.progress import progress

    n, dim = unit.shape
    if not 1 <= k <= n:
        raise BabelirError(f"cannot make {k} groups of {n} tokens")
    rng = np.random.default_rng(seed)
    p = None
    if weights is not None:
        p = np.asarray(weights, dtype=np.float64) + 1e-300  # every row can be drawn: k <= n always holds
        p /= p.sum()
    centroids = np.ascontiguousarray(unit[rng.choice(n, size=k, replace=False, p=p)])
    groups = np.zeros(n, dtype=np.int64)
    bar = progress(total=iterations, desc=f"K-means, {k:,} groups", unit="iteration", quiet=quiet)
    for _ in range(iterations):
        index = faiss.IndexFlatIP(dim)
        index.add(centroids)
        sims, found = index.search(unit, 1)
        groups = found[:, 0].astype(np.int64)
        sums = _group_sums(unit if weights is None else unit * weights[:, None], groups, k)
        norms = np.linalg.norm(sums, axis=1)
        empty = np.flatnonzero(norms == 0)
        if len(empty):  # re-seed empty groups with the worst-placed rows
            worst = np.argsort(sims[:, 0])[:len(empty)]
            sums[empty] = unit[worst]
            norms[empty] = 1.0
        centroids = np.ascontiguousarray((sums / norms[:, None]).astype(np.float32))
        bar.update(1)
    bar.close()
    return groups


def _group_sums(rows: np.ndarray, groups: np.ndarray, k: int) -> np.ndarray:
    """Per-group sums of ``rows`` (k, d); empty groups are zero rows."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    sums = np.zeros((k, rows.shape[1]), dtype=np.float64)
    sums[sorted_groups[starts]] = np.add.reduceat(rows[order].astype(np.float64), starts, axis=0)
    return sums


@dataclass
class Compression:
    """What :func:`compress_model` made: sizes in parameters and bytes."""
    ratio: float
    vocab: int
    groups: int
    dim: int
    embedding_bytes: int          # the full table, float32
    compressed_embedding_bytes: int  # the group table (float32) + the token map (int32)
    model_bytes: int              # model.safetensors of the source
    compressed_model_bytes: int   # model.safetensors + token_map.npy of the result
    multi_script_share: float     # share of groups with ≥ 2 members that span several scripts
    multi_member_groups: int      # groups with ≥ 2 members

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def group_table(table: np.ndarray, specials: list[int], ratio: float, iterations: int = 10, seed: int = 0,
                quiet: bool = False, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Group the rows of ``table`` (V, d) into ``round(ratio × V)`` semantic tokens.

    Returns ``(token_map, groups_table)``: V int32 group ids and the (K, d) float32 group means.
    ``specials`` keep a group each; all-zero rows (tokens a table left out) share one zero group.
    With ``weights`` (V token frequencies) the clustering and each group's mean are weighted by them.
    """
    if not 0 < ratio < 1:
        raise BabelirError(f"ratio {ratio}: must be between 0 and 1")
    vocab = table.shape[0]
    norms = np.linalg.norm(table, axis=1)
    specials = [i for i in specials if i < vocab]
    zero = np.setdiff1d(np.flatnonzero(norms == 0), specials)
    ordinary = np.setdiff1d(np.arange(vocab), np.concatenate([specials, zero]).astype(np.int64))
    k = max(1, min(len(ordinary), round(ratio * vocab) - len(specials) - (len(zero) > 0)))
    unit = np.ascontiguousarray(table[ordinary] / norms[ordinary, None], dtype=np.float32)
    row_weights = None if weights is None else np.asarray(weights, dtype=np.float64)[ordinary]
    used, compact = np.unique(spherical_kmeans(unit, k, iterations, seed, quiet, row_weights), return_inverse=True)
    token_map = np.empty(vocab, dtype=np.int32)
    token_map[ordinary] = compact  # groups nobody ended in are dropped
    token_map[specials] = len(used) + np.arange(len(specials))
    token_map[zero] = len(used) + len(specials)
    groups = len(used) + len(specials) + (len(zero) > 0)
    if weights is None:
        return token_map, table_from_groups(table, token_map)
    w = np.asarray(weights, dtype=np.float64)
    totals = np.bincount(token_map, weights=w, minlength=groups)
    means = _group_sums(table * w[:, None], token_map.astype(np.int64), groups) / np.maximum(totals, 1e-300)[:, None]
    plain = table_from_groups(table, token_map)  # a group of weightless tokens (specials) keeps its plain mean
    return token_map, np.where((totals > 0)[:, None], means, plain).astype(np.float32)


def table_from_groups(table: np.ndarray, token_map: np.ndarray) -> np.ndarray:
    """The (K, d) group means of ``table`` for a given token map (groups made from another table)."""
    if token_map.shape != (table.shape[0],):
        raise BabelirError(f"the token map covers {token_map.shape[0]:,} tokens, the table has {table.shape[0]:,}")
    groups = int(token_map.max()) + 1
    counts = np.maximum(np.bincount(token_map, minlength=groups), 1).astype(np.float64)
    return (_group_sums(table, token_map.astype(np.int64), groups) / counts[:, None]).astype(np.float32)


def compress_model(model: str | Path, out_dir: str | Path, ratio: float, iterations: int = 10,
                   seed: int = 0, quiet: bool = False, token_map: np.ndarray | None = None,
                   weighting: str = "auto") -> Compression:
    """Write a compressed copy of ``model`` (``hf:DIR`` or ``static:DIR``) with ``round(ratio × V)`` tokens.

    Output ``out_dir`` (written atomically): the tokenizer files, ``token_map.npy`` (V int32), the
    settings naming the map, ``babelir_semantic_tokens.json`` (source, ratio, sizes), and the (K, d)
    table: ``model.safetensors`` with ``config.json``'s ``vocab_size`` K for ``hf:``, ``embeddings.npy``
    (float16) for ``static:``. With ``token_map`` (e.g. the groups of the hf: model a static table
    was distilled from) no clustering runs: the table's rows are averaged by those groups.
    ``weighting="frequency"`` weights the clustering and the group means by the tokens' unigram
    probabilities (:func:`token_weights`); ``"none"`` treats every token alike; ``"auto"`` (the
    default) is ``frequency`` when the tokenizer has Unigram scores, else ``none``.
    """
    if weighting not in ("auto", "none", "frequency"):
        raise BabelirError(f"weighting {weighting!r}: must be auto, none or frequency")
    from babelir.io.atomic import atomic_directory

    static = str(model).startswith("static:")
    if static:
        from babelir.encode.static_encoder import SETTINGS as STATIC_SETTINGS

        source = Path(str(model).split(":", 1)[1]).expanduser().resolve()
        if not (source / STATIC_SETTINGS).exists():
            raise BabelirError(f"{model}: not a static encoder directory (no {STATIC_SETTINGS})")
        table, name = np.load(source / "embeddings.npy").astype(np.float32), "embeddings.npy"
    else:
        from babelir.encode.hf_encoder import hf_model_dir

        source = hf_model_dir(model).resolve()
        table, name = load_token_table(source)
    if (source / TOKEN_MAP).exists():
        raise BabelirError(f"{source}: already compressed (it has {TOKEN_MAP}); start from the full model")
    vocab, dim = table.shape
    if weighting == "auto":
        weighting = "frequency" if _has_unigram_scores(source) else "none"
    token_map_given = token_map is not None
    if token_map is None:
        weights = token_weights(source, table.shape[0]) if weighting == "frequency" else None
        token_map, groups_table = group_table(table, special_token_ids(source), ratio, iterations, seed, quiet,
                                              weights)
    else:
        token_map, groups_table = token_map.astype(np.int32), table_from_groups(table, token_map)
    share, multi_member = multi_script_share(source, token_map)
    with atomic_directory(out_dir) as staging:
        for kept in KEPT_FILES:
            if (source / kept).exists():
                shutil.copy2(source / kept, staging / kept)
        np.save(staging / TOKEN_MAP, token_map)
        if static:
            weights_file = _write_static(source, staging, groups_table)
        else:
            weights_file = _write_hf(source, staging, name, groups_table)
        result = Compression(ratio=ratio, vocab=vocab, groups=groups_table.shape[0], dim=dim,
                             embedding_bytes=vocab * dim * 4,
                             compressed_embedding_bytes=groups_table.shape[0] * dim * 4 + vocab * 4,
                             model_bytes=(source / weights_file).stat().st_size,
                             compressed_model_bytes=(staging / weights_file).stat().st_size
                             + (staging / TOKEN_MAP).stat().st_size,
                             multi_script_share=share, multi_member_groups=multi_member)
        info = {"source": str(source), "kind": "static" if static else "hf", "iterations": iterations,
                "seed": seed, "groups_given": token_map_given, "weighting": weighting, **result.as_dict()}
        (staging / GROUPS_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return result


def _add_token_map(settings_file: Path, target: Path) -> None:
    settings = json.loads(settings_file.read_text(encoding="utf-8")) if settings_file.exists() else {}
    settings["token_map"] = TOKEN_MAP
    target.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def _write_hf(source: Path, staging: Path, name: str, groups_table: np.ndarray) -> str:
    """The hf: side: the weights with the (K, d) table, ``vocab_size`` K, the map in the settings."""
    from safetensors.numpy import load_file, save_file

    weights = load_file(str(source / "model.safetensors"))
    weights[name] = groups_table
    save_file(weights, str(staging / "model.safetensors"))
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    config["vocab_size"] = groups_table.shape[0]
    (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    _add_token_map(source / "babelir_encoder.json", staging / "babelir_encoder.json")
    return "model.safetensors"


def _write_static(source: Path, staging: Path, groups_table: np.ndarray) -> str:
    """The static: side: ``embeddings.npy`` (K, d) float16, the map in ``babelir_static.json``."""
    from babelir.encode.static_encoder import SETTINGS as STATIC_SETTINGS

    np.save(staging / "embeddings.npy", groups_table.astype(np.float16))
    _add_token_map(source / STATIC_SETTINGS, staging / STATIC_SETTINGS)
    return "embeddings.npy"


def _pieces(model_dir: Path) -> list[str]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    return [tokenizer.id_to_token(i) or "" for i in range(tokenizer.get_vocab_size())]


def multi_script_share(model_dir: Path, token_map: np.ndarray) -> tuple[float, int]:
    """Share of groups with ≥ 2 members whose members' pieces are in more than one writing system,
    and how many groups have ≥ 2 members."""
    from babelir.text.scripts import script_of

    scripts: dict[int, set[str]] = {}
    sizes = np.bincount(token_map)
    for token_id, piece in enumerate(_pieces(model_dir)[:len(token_map)]):
        group = int(token_map[token_id])
        if sizes[group] >= 2:
            script = script_of(piece)
            if script != "NONE":
                scripts.setdefault(group, set()).add(script)
    multi = sum(1 for g in np.flatnonzero(sizes >= 2) if len(scripts.get(int(g), ())) >= 2)
    total = int((sizes >= 2).sum())
    return float(multi / max(1, total)), total


def compressed_dir(spec: str | Path) -> Path:
    """The directory of a compressed model (``hf:DIR`` or ``DIR``); it must hold a token map."""
    path = Path(str(spec).removeprefix("hf:"))
    if not (path / TOKEN_MAP).exists() or not (path / GROUPS_INFO).exists():
        raise BabelirError(f"{path}: not a compressed model (no {TOKEN_MAP} / {GROUPS_INFO}); make one with "
                           "`babelir analyze semantic-tokens`")
    return path


def multi_script_summary(spec: str | Path) -> tuple[float, int]:
    """A compressed model's share of multi-member groups spanning several scripts, and their number."""
    info = json.loads((compressed_dir(spec) / GROUPS_INFO).read_text(encoding="utf-8"))
    return float(info["multi_script_share"]), int(info["multi_member_groups"])


@dataclass
class WordGroup:
    """One token of a word and the members of its group."""
    word: str
    piece: str
    group: int
    size: int
    members: list[str]
    scripts: list[str]


def group_members(model: str | Path, words: list[str], limit: int = 40) -> list[WordGroup]:
    """For each word, its tokens (the bare word-start piece ``▁`` left out) and each token's group:
    its size, its members (the first ``limit``) and their writing systems."""
    from tokenizers import Tokenizer

    from babelir.text.scripts import script_of

    path = compressed_dir(model)
    token_map = np.load(path / TOKEN_MAP)
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    pieces = _pieces(path)
    out = []
    for word in words:
        for token_id in tokenizer.encode(word, add_special_tokens=False).ids:
            if pieces[token_id] == "\u2581":
                continue
            group = int(token_map[token_id])
            members = [pieces[i] for i in np.flatnonzero(token_map == group)]
            scripts = sorted({script_of(m) for m in members} - {"NONE"})
            out.append(WordGroup(word, pieces[token_id], group, len(members), members[:limit], scripts))
    return out
