"""babelir analyze semantic-tokens / groups, on a tiny BERT built in the session."""

import json

import numpy as np
import pytest

from tests.conftest import run_cli
from tests.tiny_models import build_tiny_bert

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("faiss")

WORDS = ["the", "moon", "ocean", "tides", "volcano", "magma", "lava", "coffee", "beans", "tea", "what", "is",
         "月", "海", "咖", "啡"]
SPECIALS = 5  # [PAD] [UNK] [CLS] [SEP] [MASK]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny BERT whose 'moon' and '月' rows point the same way (so they must share a group)."""
    from safetensors.numpy import load_file, save_file

    folder = build_tiny_bert(tmp_path_factory.mktemp("semantic") / "full", words=WORDS, hidden=32)
    weights = load_file(str(folder / "model.safetensors"))
    name = next(k for k in weights if k.endswith("word_embeddings.weight"))
    table = weights[name].copy()
    moon, yue = SPECIALS + WORDS.index("moon"), SPECIALS + WORDS.index("月")
    table[yue] = 2.0 * table[moon]  # same direction, other length: cosine 1
    weights[name] = table
    save_file(weights, str(folder / "model.safetensors"))
    return folder


@pytest.fixture(scope="module")
def compressed(tiny):
    from babelir.analysis.semantic_tokens import compress_model

    result = compress_model(tiny, tiny.parent / "half", 0.5, iterations=5, quiet=True)
    return tiny.parent / "half", result


def test_compressed_model_has_a_smaller_table_and_a_map_of_every_token(tiny, compressed):
    from babelir.analysis.semantic_tokens import load_token_table

    directory, result = compressed
    vocab = SPECIALS + len(WORDS)
    token_map = np.load(directory / "token_map.npy")
    config = json.loads((directory / "config.json").read_text())
    table, _ = load_token_table(directory)
    full, _ = load_token_table(tiny)
    assert token_map.shape == (vocab,) and result.vocab == vocab
    assert config["vocab_size"] == result.groups == table.shape[0] < vocab
    assert result.groups == round(0.5 * vocab)
    assert len(set(token_map[:SPECIALS].tolist())) == SPECIALS  # specials: a group each ...
    assert not set(token_map[:SPECIALS].tolist()) & set(token_map[SPECIALS:].tolist())  # ... of their own
    for group in range(result.groups):  # each group's row is the mean of its members' rows
        assert np.allclose(table[group], full[token_map == group].mean(0), atol=1e-6)
    assert token_map[SPECIALS + WORDS.index("moon")] == token_map[SPECIALS + WORDS.index("月")]
    assert result.compressed_embedding_bytes < result.embedding_bytes
    info = json.loads((directory / "babelir_semantic_tokens.json").read_text())
    assert info["weighting"] == "none"  # auto: a WordPiece tokenizer has no unigram scores to weight by


def test_compressed_encoder_equals_the_full_model_with_group_rows(tiny, compressed, tmp_path):
    """hf:DIR applies the map: the same vectors as the full model whose rows are their group means."""
    import shutil

    from safetensors.numpy import load_file, save_file

    from babelir.encode.hf_encoder import HFEncoder

    directory, _ = compressed
    token_map = np.load(directory / "token_map.npy")
    group_table = load_file(str(directory / "model.safetensors"))
    expanded = tmp_path / "expanded"
    shutil.copytree(tiny, expanded)
    weights = load_file(str(expanded / "model.safetensors"))
    name = next(k for k in weights if k.endswith("word_embeddings.weight"))
    weights[name] = group_table[name][token_map]
    save_file(weights, str(expanded / "model.safetensors"))
    texts = ["what is the moon", "月 海", "coffee beans and tea", "lava magma volcano"]
    got = HFEncoder(f"hf:{directory}").encode_queries(texts)
    want = HFEncoder(f"hf:{expanded}").encode_queries(texts)
    assert np.allclose(got, want, atol=1e-5)
    assert not np.allclose(got, HFEncoder(f"hf:{tiny}").encode_queries(texts), atol=1e-3)


def test_spherical_kmeans_finds_well_separated_directions():
    from babelir.analysis.semantic_tokens import spherical_kmeans

    rng = np.random.default_rng(0)
    centres = np.eye(8, dtype=np.float32)[:4]
    rows = np.repeat(centres, 25, axis=0) + 0.05 * rng.standard_normal((100, 8)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    groups = spherical_kmeans(rows, 4, iterations=10, seed=1, quiet=True)
    truth = np.repeat(np.arange(4), 25)
    for cluster in range(4):  # each true cluster lands in one group, and the groups differ
        assert len(set(groups[truth == cluster].tolist())) == 1
    assert len(set(groups.tolist())) == 4


def test_groups_command_lists_members_and_writes_the_plot(compressed, tmp_path):
    directory, _ = compressed
    plot = tmp_path / "moon.png"
    result = run_cli("analyze", "groups", directory, "moon", "--plot", plot)
    assert result.returncode == 0, result.stderr
    assert "token moon" in result.stdout and "月" in result.stdout.split("token moon", 1)[1].splitlines()[1]
    assert "spanning several scripts" in result.stdout
    assert plot.stat().st_size > 10_000


def test_semantic_tokens_command_evaluates_every_ratio_and_resumes(tiny, xquadr_dir, tmp_path):
    out = tmp_path / "curve"
    args = ("analyze", "semantic-tokens", f"hf:{tiny}", "--ratios", "0.3,0.6", "-o", out,
            "--xquadr", xquadr_dir, "--langs", "en,th", "--iterations", "3")
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    results = json.loads((out / "semantic_tokens.json").read_text())
    assert sorted(results["rows"]) == ["0.3", "0.6", "1.0"]
    for row in results["rows"].values():
        assert set(row["nDCG@10"]) == {"en", "th"} and 0 <= row["pool MAP"] <= 1
    assert (out / "ratio-0.3" / "token_map.npy").exists() and (out / "semantic_tokens.png").stat().st_size > 10_000
    report = (out / "semantic_tokens.md").read_text()
    assert "| 0.3 |" in report
    full_vocab = len(np.load(out / "ratio-0.3" / "token_map.npy"))
    assert f"| 1.0 | {full_vocab:,} |" in report  # the full model's size is given, not just "full"
    second = run_cli(*args)  # everything is kept: nothing is grouped or evaluated again
    assert second.returncode == 0, second.stderr
    assert "grouping" not in second.stdout and "nDCG@10 0." not in second.stdout
    other = run_cli(*args[:-1], "4")
    assert other.returncode == 2 and "other settings" in other.stderr


@pytest.mark.parametrize("args, message", [
    (("--ratios", "0.2,1.5"), "between 0 and 1"),
    (("--ratios", "a"), "expected numbers"),
])
def test_bad_ratios_are_clear_errors(tiny, tmp_path, args, message):
    result = run_cli("analyze", "semantic-tokens", f"hf:{tiny}", "-o", tmp_path / "x", *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_groups_of_a_full_model_is_a_clear_error(tiny):
    result = run_cli("analyze", "groups", tiny, "moon")
    assert result.returncode == 2 and "not a compressed model" in result.stderr


def test_analyze_without_a_subcommand_still_analyses_text():
    result = run_cli("analyze", "--lang", "en", "The cats are running")
    assert result.returncode == 0 and result.stdout.split()[:4] == ["the", "cat", "be", "run"]


def test_training_refuses_a_semantic_token_model(compressed, tmp_path):
    directory, _ = compressed
    result = run_cli("model", "distill-static", "--teacher", f"hf:{directory}", "-o", tmp_path / "s", "--quiet")
    assert result.returncode == 2 and "semantic-token model" in result.stderr


def test_static_encoder_groups_apply_through_its_token_map(tiny, tmp_path):
    """static:DIR compressed: the same vectors as the full static table whose rows are group means."""
    import shutil

    from babelir.analysis.semantic_tokens import compress_model
    from babelir.encode.static_encoder import StaticEncoder

    result = run_cli("model", "distill-static", "--teacher", f"hf:{tiny}", "-o", tmp_path / "static", "--dim", "8",
                     "--quiet")
    assert result.returncode == 0, result.stderr
    compression = compress_model(f"static:{tmp_path / 'static'}", tmp_path / "half", 0.5, iterations=5, quiet=True)
    token_map = np.load(tmp_path / "half" / "token_map.npy")
    groups = np.load(tmp_path / "half" / "embeddings.npy")
    assert groups.shape == (compression.groups, 8) and token_map.shape == (compression.vocab,)
    shutil.copytree(tmp_path / "static", tmp_path / "expanded")
    np.save(tmp_path / "expanded" / "embeddings.npy", groups[token_map])
    texts = ["what is the moon", "coffee beans and tea", "lava magma volcano"]
    got = StaticEncoder(f"static:{tmp_path / 'half'}").encode_queries(texts)
    assert np.allclose(got, StaticEncoder(f"static:{tmp_path / 'expanded'}").encode_queries(texts), atol=1e-3)
    listed = run_cli("analyze", "groups", tmp_path / "half", "moon")
    assert listed.returncode == 0 and "token moon" in listed.stdout


def test_a_static_table_can_be_grouped_as_its_teacher(tiny, compressed, tmp_path):
    """--groups-from: the static rows are averaged by the hf: model's groups; no clustering."""
    from babelir.analysis.semantic_tokens import compress_model

    directory, hf_result = compressed
    result = run_cli("model", "distill-static", "--teacher", f"hf:{tiny}", "-o", tmp_path / "static", "--dim", "8",
                     "--quiet")
    assert result.returncode == 0, result.stderr
    token_map = np.load(directory / "token_map.npy")
    compression = compress_model(f"static:{tmp_path / 'static'}", tmp_path / "grouped", 0.5, token_map=token_map)
    assert compression.groups == hf_result.groups
    assert np.array_equal(np.load(tmp_path / "grouped" / "token_map.npy"), token_map)
    full = np.load(tmp_path / "static" / "embeddings.npy").astype(np.float32)
    rows = np.load(tmp_path / "grouped" / "embeddings.npy").astype(np.float32)
    moon = SPECIALS + WORDS.index("moon")
    members = token_map == token_map[moon]
    assert np.allclose(rows[token_map[moon]], full[members].mean(0), atol=1e-2)
    with pytest.raises(Exception, match="covers"):
        compress_model(f"static:{tmp_path / 'static'}", tmp_path / "bad", 0.5, token_map=token_map[:-1])


def test_frequency_weighting_keeps_a_frequent_token_near_its_own_vector():
    """Weighted by frequency, a group's row is pulled to its frequent member; unweighted, to the mean."""
    from babelir.analysis.semantic_tokens import group_table

    rng = np.random.default_rng(0)
    base = rng.standard_normal((1, 16)).astype(np.float32)
    table = np.vstack([np.zeros((1, 16), np.float32),  # a special token
                       base + 0.01 * rng.standard_normal((9, 16)).astype(np.float32),  # one tight cluster
                       -base + 0.01 * rng.standard_normal((10, 16)).astype(np.float32)])
    weights = np.full(20, 1e-6)
    weights[1] = 1.0  # token 1 is the frequent one
    plain_map, plain = group_table(table, [0], 0.15, iterations=5)
    weighted_map, weighted = group_table(table, [0], 0.15, iterations=5, weights=weights)
    assert plain.shape[0] == weighted.shape[0] == 3 and plain_map[0] != plain_map[1]
    own = weighted_map[1]
    assert np.abs(weighted[own] - table[1]).max() < 1e-4
    assert np.abs(plain[plain_map[1]] - table[1:10].mean(0)).max() < 1e-5


def test_frequency_weighting_needs_unigram_scores(tiny, xquadr_dir, tmp_path):
    result = run_cli("analyze", "semantic-tokens", f"hf:{tiny}", "-o", tmp_path / "w", "--ratios", "0.5",
                     "--weighting", "frequency", "--xquadr", xquadr_dir, "--langs", "en", "--no-pool")
    assert result.returncode == 2 and "Unigram" in result.stderr
