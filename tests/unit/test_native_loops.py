"""The index's loops in C (babelir.index._native) against the Python and numpy code they replace: the
same Runs float for float, the same postings, and clear errors for inputs that do not agree."""

import random
from collections import Counter

import numpy as np
import pytest

from babelir.index import lexical
from babelir.index.core import Index
from babelir.text.analyzer import get_analyzer
from babelir.types import Doc

KERNEL = lexical.KERNEL


def test_the_c_loops_are_built():
    # setuptools builds them with `pip install -e .` (optional: without a compiler, numpy scores)
    assert KERNEL is not None, "babelir.index._native is not built: run `make install` (needs a C compiler)"


def _corpus(seed: int, count: int, words: int = 12) -> list[Doc]:
    rng = random.Random(seed)
    vocabulary = [f"w{n}" for n in range(words)]  # few words: many documents tie
    langs = ["en", "de", "fr"]
    return [Doc(f"d{n:04d}", " ".join(rng.choices(vocabulary, k=rng.randint(1, 9))), lang=langs[n % 3])
            for n in range(count)]


def _both(lex, index, queries, k, allowed=None):
    found = {}
    for name, kernel in (("C", KERNEL), ("numpy", None)):
        lexical.KERNEL = kernel
        try:
            found[name] = [lex.search(q, k, index.params, allowed=allowed) for q in queries]
        finally:
            lexical.KERNEL = KERNEL
    return found["C"], found["numpy"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_c_loops_rank_and_score_as_numpy_does(tmp_path, seed):
    rng = random.Random(seed)
    docs = _corpus(seed, 700)
    with Index.create(tmp_path / "ix", analyzer=get_analyzer("script-aware")) as index:
        for start in range(0, 700, 250):  # three segments
            index.add(docs[start:start + 250])
        index.add([Doc("long", "w1 " * 70_000)])  # a segment with uint32 counts
        index.delete([d.id for d in rng.sample(docs, 60)])  # masked until a merge
        lex = index.lexical()
        assert len(lex.segments) == 4 and lex.live is not None
        queries = [Counter(rng.choices([f"w{n}" for n in range(14)], k=rng.randint(1, 6))) for _ in range(60)]
        for k in (1, 3, 10, 1000):
            c, numpy_ = _both(lex, index, queries, k)
            assert c == numpy_  # ids, order and float scores
            assert any(len(found) == k for found in c) or k == 1000
        allowed = lex.language_mask({"de"}, index.store.lang_map)
        c, numpy_ = _both(lex, index, queries, 10, allowed)
        assert c == numpy_ and all(d != "long" for found in c for d, _ in found)


def test_the_c_loops_keep_every_tie_at_the_cut(tmp_path):
    with Index.create(tmp_path / "ix", analyzer=get_analyzer("script-aware")) as index:
        index.add([Doc(f"t{n}", "same words") for n in range(30)] + [Doc("best", "same same words")])
        c, numpy_ = _both(index.lexical(), index, [Counter(["same"])], 5)
    assert c == numpy_
    assert [d for d, _ in c[0]] == ["best", "t9", "t8", "t7", "t6"]  # ties: ids descending, as trec_eval


def _inputs(postings=4, n=5):
    docs = np.array([0, 2, 2, 4][:postings], dtype=np.int32)
    tfs = np.ones(postings, dtype=np.uint16)
    return dict(docs=docs, tfs=tfs, ends=np.array([2, postings], dtype=np.int64), weights=np.array([1.0, 2.0]),
                norm=np.ones(n), sums=np.zeros(n), touched=np.empty(postings, dtype=np.int32))


def _accumulate(i, tf_width=2):
    return KERNEL.accumulate(i["docs"], i["tfs"], tf_width, i["ends"], i["weights"], i["norm"], i["sums"], i["touched"])


def test_accumulate_sums_each_row_once_in_the_order_met():
    i = _inputs()
    assert _accumulate(i) == 3
    assert i["touched"][:3].tolist() == [0, 2, 4]
    assert i["sums"].tolist() == [0.5, 0.0, 0.5 + 1.0, 0.0, 1.0]  # (tf * w) / (norm + tf)
    values = np.empty(4)
    assert KERNEL.top(i["sums"], i["touched"], 3, 1, None, values) == 1
    assert i["touched"][0] == 2 and values[0] == 1.5 and not i["sums"].any()  # zero again


@pytest.mark.parametrize("change, message", [
    (lambda i: i["docs"].__setitem__(1, 5), "outside the collection"),
    (lambda i: i["docs"].__setitem__(1, -1), "outside the collection"),
    (lambda i: i["ends"].__setitem__(0, 9), "out of order"),
    (lambda i: i["ends"].__setitem__(1, 3), "past the postings"),
    (lambda i: i.__setitem__("sums", np.zeros(4)), "differ in length"),
    (lambda i: i.__setitem__("touched", np.empty(2, dtype=np.int32)), "shorter"),
    (lambda i: i.__setitem__("tfs", np.ones(3, dtype=np.uint16)), "differ in length"),
])
def test_accumulate_refuses_inputs_that_disagree_and_leaves_no_partial_sums(change, message):
    i = _inputs()
    change(i)
    with pytest.raises(ValueError, match=message):
        _accumulate(i)
    assert not i["sums"].any()


def test_top_refuses_inputs_that_disagree():
    sums, touched, values = np.zeros(4), np.zeros(4, dtype=np.int32), np.empty(4)
    with pytest.raises(ValueError, match="k must be"):
        KERNEL.top(sums, touched, 2, 0, None, values)
    with pytest.raises(ValueError, match="mask"):
        KERNEL.top(sums, touched, 2, 1, np.ones(3, dtype=bool), values)
    with pytest.raises(ValueError, match="past touched"):
        KERNEL.top(sums, touched, 5, 1, None, values)
    with pytest.raises(ValueError, match="outside"):
        KERNEL.top(sums, np.array([0, 9], dtype=np.int32), 2, 1, None, values)
    with pytest.raises(ValueError, match="tf_width"):
        KERNEL.accumulate(np.zeros(1, np.int32), np.zeros(1, np.uint16), 3, np.array([1]), np.ones(1), np.ones(2),
                          np.zeros(2), np.zeros(1, np.int32))


def test_read_gives_each_term_s_postings_one_after_the_other_and_names_a_short_file(tmp_path):
    import os

    rows = np.arange(10, dtype=np.int32)
    counts_ = np.arange(100, 110, dtype=np.uint16)
    path = tmp_path / "postings"
    path.write_bytes(rows.tobytes() + counts_.tobytes())
    fd = os.open(path, os.O_RDONLY)
    try:
        docs, tfs = np.zeros(5, dtype=np.int32), np.zeros(5, dtype=np.uint16)
        spec = [np.array(v, dtype=np.int64) for v in ([fd, fd], [4 * 7, 4 * 1], [40 + 2 * 7, 40 + 2 * 1], [3, 2], [0, 100])]
        assert KERNEL.read(*spec, 2, docs, tfs) == -1
        assert docs.tolist() == [7, 8, 9, 101, 102] and tfs.tolist() == [107, 108, 109, 101, 102]
        spec[1][1] = 4 * 9  # the second term's counts start past the end of the file
        spec[2][1] = 60
        assert KERNEL.read(*spec, 2, docs, tfs) == 1
        with pytest.raises(ValueError, match="shorter than the postings"):
            KERNEL.read(*spec, 2, docs[:4], tfs)
    finally:
        os.close(fd)
    with pytest.raises(OSError):
        KERNEL.read(*[np.array([v], dtype=np.int64) for v in (fd, 0, 40, 1, 0)], 2, docs, tfs)  # closed


@pytest.mark.parametrize("seed", [1, 2])
def test_postings_of_a_batch_are_the_same_counted_in_c_or_in_python(monkeypatch, seed):
    from babelir.index import segments

    rng = random.Random(seed)
    words = ["a", "b", "ü", "日本", "\ud800x", "~▁pièce"] + [f"w{n}" for n in range(300)]
    term_lists = [rng.choices(words, k=rng.choice([0, 1, 5, 40])) for _ in range(500)]
    native = segments.Postings.of(term_lists)
    monkeypatch.setattr(segments, "_native", lambda: None)
    python = segments.Postings.of(term_lists)
    assert native.terms == python.terms
    for field in ("hashes", "term_ids", "docs", "tfs", "lengths"):
        a, b = getattr(native, field), getattr(python, field)
        assert a.dtype == b.dtype and np.array_equal(a, b), field


def test_factorize_and_count_postings_refuse_what_they_cannot_count():
    with pytest.raises(TypeError, match="must be a str"):
        KERNEL.factorize([["a", 1]])
    with pytest.raises(TypeError):
        KERNEL.factorize([["a"], 5])
    assert KERNEL.factorize([]) == (bytearray(), [], bytearray())
    ranks = np.array([0, 1, 1], dtype=np.int64)
    with pytest.raises(ValueError, match="do not sum"):
        KERNEL.count_postings(ranks, np.array([2], dtype=np.int64), 2)
    with pytest.raises(ValueError, match="do not sum"):
        KERNEL.count_postings(ranks, np.array([4, -1], dtype=np.int64), 2)
    with pytest.raises(ValueError, match="outside"):
        KERNEL.count_postings(ranks, np.array([3], dtype=np.int64), 1)
    term_ids, docs, tfs = KERNEL.count_postings(ranks, np.array([2, 1], dtype=np.int64), 2)
    assert (np.frombuffer(term_ids, np.int64).tolist(), np.frombuffer(docs, np.int32).tolist(),
            np.frombuffer(tfs, np.int64).tolist()) == ([0, 1, 1], [0, 0, 1], [1, 1, 1])


def test_a_union_of_vocabularies_numbers_terms_alike_in_c_and_in_python(monkeypatch):
    from babelir.index import segments

    rng = random.Random(5)
    parts = [[f"t{rng.randrange(400)}".encode() for _ in range(rng.randrange(0, 300))] for _ in range(6)]

    def joined():
        union = segments._Union()
        maps = [union.add(terms, np.arange(len(terms), dtype=np.uint64) + 1000 * n) for n, terms in enumerate(parts)]
        return union.terms, union.hashes, maps

    native = joined()
    monkeypatch.setattr(segments, "_native", lambda: None)
    python = joined()
    assert native[0] == python[0] and np.array_equal(native[1], python[1])
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(native[2], python[2]))
    numbers = {"a": 0}
    assert np.frombuffer(KERNEL.number(numbers, ["b", "a", "b", "c"]), np.int64).tolist() == [1, 0, 1, 2]
    assert numbers == {"a": 0, "b": 1, "c": 2}
    with pytest.raises(TypeError):
        KERNEL.number(numbers, [["unhashable"]])
    with pytest.raises(TypeError):
        KERNEL.number([], ["a"])


def test_sizes_whose_products_or_sums_would_overflow_are_refused_not_read_past():
    # each of these crashed the interpreter once (a fresh user's trial): a count times its width, or
    # a sum of counts, wrapped around and passed the size checks
    values = np.zeros(4)
    with pytest.raises(ValueError, match="past touched"):
        KERNEL.top(np.zeros(4), np.zeros(4, np.int32), 2**62, 1, None, values)
    with pytest.raises(ValueError, match="past touched"):
        KERNEL.top(np.zeros(4), np.zeros(4, np.int32), 2**61, 1, None, values)
    with pytest.raises(ValueError, match="do not sum"):
        KERNEL.count_postings(np.array([0]), np.array([2**63 - 1, 2**63 - 1, 3]), 1)
    with pytest.raises(ValueError, match="more than the ranks"):
        KERNEL.count_postings(np.array([0]), np.array([1]), 2**62)
    docs, tfs = np.zeros(4, np.int32), np.zeros(4, np.uint16)
    for counts in ([2**62], [2**63 - 1, 2], [2**62, 2**62], [-1]):
        spec = [np.zeros(len(counts), np.int64) for _ in range(2)] + [np.zeros(len(counts), np.int64)]
        with pytest.raises(ValueError, match="negative, or the buffers are shorter"):
            KERNEL.read(*spec, np.array(counts, np.int64), np.ones(len(counts), np.int64), 2, docs, tfs)


def test_terms_whose_hash_changes_their_list_cannot_pull_memory_from_under_the_loops():
    lists = [["a", "b"], ["c"]]

    class Rude(str):
        def __hash__(self):
            lists[0].clear()
            lists[0].extend(["x"] * 1000)
            return str.__hash__(self)

    lists[0].append(Rude("rude"))  # the last term: the list changes once it has been read
    codes, vocabulary, lengths = KERNEL.factorize(lists)
    assert vocabulary == ["a", "b", "rude", "c"] and np.frombuffer(lengths, np.int64).tolist() == [3, 1]
    lists[:] = [[Rude("first"), "a", "b"], ["c"]]  # the list changes before the rest is read
    with pytest.raises(RuntimeError, match="changed while they were counted"):
        KERNEL.factorize(lists)
    items = ["p", Rude("q"), "p"]
    assert np.frombuffer(KERNEL.number({}, items), np.int64).tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="values must be ints"):
        KERNEL.number({"a": "x"}, ["a"])
    with pytest.raises(OverflowError):
        KERNEL.number({"a": 2**70}, ["a"])


@pytest.fixture(params=["C", "numpy"])
def small_index(request, tmp_path, monkeypatch):
    """(index, its Lexical) of 50 random documents, searched by the C loops, then by numpy."""
    if request.param == "numpy":
        monkeypatch.setattr(lexical, "KERNEL", None)
    with Index.create(tmp_path / "ix", analyzer=get_analyzer("script-aware")) as index:
        index.add(_corpus(4, 50))
        yield index, index.lexical()


def test_k_is_checked_alike_and_a_k_past_the_collection_gives_every_document(small_index):
    index, lex = small_index
    everything = lex.search(Counter(["w1", "w2"]), 50, index.params)
    assert lex.search(Counter(["w1", "w2"]), 2**63, index.params) == everything
    for k in (0, -1, 1.5, True, None, "10"):
        with pytest.raises(ValueError, match="k must be a whole number"):
            lex.search(Counter(["w1"]), k, index.params)


def test_a_segment_with_rows_past_the_collection_is_a_clear_error(small_index, monkeypatch):
    index, lex = small_index
    monkeypatch.setattr(lex, "_norms", lambda params: np.ones(3))  # as if rows pointed past N
    monkeypatch.setattr(lex, "count", 3)
    with pytest.raises(ValueError, match=r"lexical: a posting's row is outside the collection \(a damaged"):
        lex.search(Counter(["w1"]), 5, index.params)


def test_top_keeps_a_row_once_and_only_with_a_score():
    sums = np.array([0.0, 2.0, 1.0, 0.0])
    touched, values = np.array([1, 3, 1, 2, 0], dtype=np.int32), np.empty(5)  # 1 twice; 3 and 0 score 0
    kept = KERNEL.top(sums, touched, 5, 10, None, values)
    assert sorted(zip(touched[:kept].tolist(), values[:kept].tolist())) == [(1, 2.0), (2, 1.0)]
    assert not sums.any()


def test_read_reads_what_it_checked_even_when_its_output_is_its_counts(tmp_path):
    # counts passed as the docs output too: the file's bytes landed on the counts not yet read,
    # and the next term's size was then whatever the file held (a second trial's crash)
    import os

    path = tmp_path / "bytes"
    path.write_bytes(b"\x7f" * (1 << 20))
    fd = os.open(path, os.O_RDONLY)
    try:
        counts = np.array([3, 0], np.int64)
        zeros = np.zeros(2, np.int64)
        assert KERNEL.read(np.array([fd, fd]), zeros, zeros, counts, zeros, 2, counts, np.zeros(64, np.uint16)) == -1
        with pytest.raises(OSError):  # an fd past a C int is not cut down to another fd
            KERNEL.read(np.array([fd + 2**32]), np.zeros(1, np.int64), np.zeros(1, np.int64), np.ones(1, np.int64),
                        np.zeros(1, np.int64), 2, np.zeros(4, np.int32), np.zeros(4, np.uint16))
    finally:
        os.close(fd)


def test_top_takes_a_bool_mask_only():
    sums, touched, values = np.ones(8), np.arange(8, dtype=np.int32), np.empty(8)
    with pytest.raises(ValueError, match="bool"):
        KERNEL.top(sums, touched, 8, 3, np.ones(1, np.int64), values)  # 8 bytes, like 8 bools
    assert KERNEL.top(sums, touched, 8, 3, np.arange(8) % 2 == 0, values) == 4  # ties at the cut: all kept
