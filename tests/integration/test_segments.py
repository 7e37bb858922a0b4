"""The postings segments behind BM25 search: one file per commit, listed by the store,
memory-mapped, masked for deletes, merged now and then, and crash-safe (issue 21)."""

import numpy as np
import pytest

from babelir.index import segments
from babelir.index.core import Index
from babelir.types import Doc

DOCS = [Doc("a", "red apples and green apples"), Doc("b", "green pears"), Doc("c", "blue sky")]


def seg_files(ix):
    return sorted(p.name for p in (ix / "lexical").iterdir())


def listed(index):
    return [entry["name"] + ".seg" for entry in index.store.get_meta("segments", [])]


def test_each_commit_writes_one_segment_and_a_reopened_index_searches_it(tmp_path):
    ix = tmp_path / "ix"
    with Index.create(ix) as index:
        index.add(DOCS)
        index.add([Doc("d", "green tea")])
        first = index.search("apples")
        assert seg_files(ix) == sorted(listed(index)) and len(listed(index)) == 2
        assert (ix / "lexical" / listed(index)[0]).stat().st_mode & 0o777 == 0o644
    with Index.open(ix) as index:
        lexical = index.lexical()
        assert all(not s.docs.flags.writeable and not s.tfs.flags.writeable for s in lexical.segments)  # mapped
        assert index.search("apples") == first and [d for d, _ in index.search("tea")] == ["d"]
        assert lexical.count == 4 and sorted(lexical.docnos().tolist()) == [0, 1, 2, 3]


def test_deleted_documents_are_masked_and_statistics_follow_lucene(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add(DOCS)
        assert [d for d, _ in index.search("green")] == ["b", "a"]  # b is shorter
        index.add([Doc("d", "green green green")])
        assert [d for d, _ in index.search("green")][0] == "d"
        index.delete(["d", "b"])
        assert [d for d, _ in index.search("green")] == ["a"]
        assert index.search("pears") == []
        # until a merge drops them, deleted documents still count in N and df (Lucene's convention)
        assert index.lexical().count == 4 and index.lexical().doc_freqs(["green"]) == {"green": 3}
        assert index.store.deleted_docnos() == [1, 3]


def test_an_orphan_segment_of_an_interrupted_commit_is_ignored_then_removed(tmp_path):
    ix = tmp_path / "ix"
    with Index.create(ix) as index:
        index.add(DOCS)
        expected = index.search("sky")
    # what a writer killed between writing its segment and the store's commit leaves
    segments.Postings.of([["sky", "sky"]]).write(ix / "lexical", segments.new_name(2), [7], ["x"])
    (ix / "lexical" / ".s000000002-dead.tmp").write_bytes(b"half a file")
    with Index.open(ix) as index:
        assert index.search("sky") == expected  # a reader never reads an unlisted file
    with Index.open(ix, writable=True) as index:
        index.add([Doc("e", "grey sky")])  # the next writer removes the leftovers first
        assert seg_files(ix) == sorted(listed(index)) and len(seg_files(ix)) == 2


def test_hash_collisions_are_told_apart_by_the_terms(tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "term_hash", lambda term: 42 if term in (b"apples", b"sky") else 7)
    monkeypatch.setattr("babelir.index.lexical.term_hash", segments.term_hash)
    with Index.create(tmp_path / "ix") as index:
        index.add(DOCS)
        assert [d for d, _ in index.search("sky")] == ["c"]
        assert [d for d, _ in index.search("apples")] == ["a"]
        assert [d for d, _ in index.search("pears green")] == ["b", "a"]
        assert index.search("missing") == []


def test_writing_and_merging_reuse_the_terms_hashes_and_write_the_same_bytes(tmp_path, monkeypatch):
    terms = [["red", "apples", "apples"], ["green", "pears"], ["blue", "sky", "red"]]
    postings = segments.Postings.of(terms)  # hashed once, here (an analysis worker's job)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    computed = segments.write_segment(tmp_path / "a", "s1", postings.terms, postings.term_ids, postings.docs,
                                      postings.tfs, np.arange(3), postings.lengths, [b"x", b"y", b"z"])
    calls = []
    real = segments.term_hash
    monkeypatch.setattr(segments, "term_hash", lambda term: calls.append(term) or real(term))
    given = postings.write(tmp_path / "b", "s1", [0, 1, 2], ["x", "y", "z"])
    assert calls == [] and given["sha256"] == computed["sha256"]  # same file, no hash computed again
    halves = [segments.Postings.of(terms[:1]), segments.Postings.of(terms[1:])]
    parts = [halves[0].write(tmp_path / "b", "p0", [0], ["x"]), halves[1].write(tmp_path / "b", "p1", [1, 2], ["y", "z"])]
    opened = [segments.Segment(tmp_path / "b" / f"{p['name']}.seg") for p in parts]
    calls.clear()  # (the halves were hashed by Postings.of)
    merged = segments.merge_segments(tmp_path / "b", "m", opened, np.empty(0, dtype=np.int64))
    assert calls == [] and merged["sha256"] == computed["sha256"]


def test_tiered_merges_keep_results_and_drop_deleted_documents(tmp_path):
    words = ["alpha", "beta", "gamma", "delta"]
    ix = tmp_path / "ix"
    with Index.create(ix) as index:
        for batch in range(12):
            index.add([Doc(f"d{batch}-{i}", f"{words[i % 4]} {words[(i + batch) % 4]} number{batch}x{i}")
                       for i in range(5)])
            if batch == 3:
                index.delete(["d1-0", "d2-2"])
        listing = index.store.get_meta("segments")
        assert [e["docs"] for e in listing] == [48, 5, 5]  # the 11th commit merged 10: 2 deleted gone
        assert seg_files(ix) == sorted(listed(index))
        assert index.store.deleted_docnos() == []  # the merge dropped them
        assert index.doc_count == index.lexical().count == 58
        merged = {d: s for d, s in index.search("alpha", 100)}
    with Index.create(tmp_path / "fresh") as fresh:  # the same documents in one commit score the same
        fresh.add([Doc(f"d{b}-{i}", f"{words[i % 4]} {words[(i + b) % 4]} number{b}x{i}")
                   for b in range(12) for i in range(5) if (b, i) not in ((1, 0), (2, 2))])
        assert {d: pytest.approx(s, rel=1e-9) for d, s in fresh.search("alpha", 100)} == merged


def test_pick_merge_is_tiered():
    assert segments.pick_merge([100] * 10) == []
    assert segments.pick_merge([100] * 11) == list(range(10))
    assert segments.pick_merge([50_000] + [100] * 5 + [40_000] * 3) == []
    assert segments.pick_merge([5000, 100, 6000, 7000] + [8000] * 8) == [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_ties_at_the_cut_are_ordered_like_trec_eval(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add([Doc(f"d{i}", "same words here") for i in range(10)])
        top = index.search("words", k=3)
        assert [d for d, _ in top] == ["d9", "d8", "d7"]
        assert len({s for _, s in top}) == 1


def test_large_term_frequencies_fit(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add([Doc("big", "spam " * 70_000), Doc("small", "spam eggs")])
        segment = index.lexical().segments[0]
        assert segment.tfs.dtype == np.uint32 and int(segment.tfs.max()) == 70_000
        assert [d for d, _ in index.search("spam")] == ["big", "small"]


def test_a_commit_leaves_earlier_segments_untouched(tmp_path):
    ix = tmp_path / "ix"
    with Index.create(ix) as index:
        index.add([Doc(f"a{i}", f"first batch words {i}") for i in range(200)])
        before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (ix / "lexical").iterdir()}
        index.add([Doc("b0", "second batch")])
        after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (ix / "lexical").iterdir()}
        assert len(after) == 2 and all(after[name] == stat for name, stat in before.items())
        new = (ix / "lexical" / (set(after) - set(before)).pop()).stat().st_size
        assert new < min((ix / "lexical" / name).stat().st_size for name in before)  # one small file


def test_an_interrupted_merge_keeps_the_segments_and_the_next_writer_merges(tmp_path, monkeypatch):
    from babelir.index.docstore import DocStore

    ix = tmp_path / "ix"
    with Index.create(ix) as index:
        for batch in range(10):
            index.add([Doc(f"d{batch}", f"word{batch} shared")])
        expected = index.search("shared", 20)
    real_commit = DocStore.commit
    calls = {"n": 0}

    def commit(self):
        calls["n"] += 1
        if calls["n"] == 2:  # the 11th batch commits; its merge is interrupted
            raise KeyboardInterrupt
        real_commit(self)

    monkeypatch.setattr(DocStore, "commit", commit)
    with Index.open(ix, writable=True) as index, pytest.raises(KeyboardInterrupt):
        index.add([Doc("d10", "word10 shared")])
    monkeypatch.undo()
    with Index.open(ix) as index:
        assert len(listed(index)) == 11 and seg_files(ix) == sorted(listed(index))  # the merged file went
        found = dict(index.search("shared", 20))
        assert set(found) == {d for d, _ in expected} | {"d10"}
    with Index.open(ix, writable=True) as index:
        index.add([Doc("d11", "word11 shared")])
        assert [e["docs"] for e in index.store.get_meta("segments")] == [10, 1, 1]
        assert seg_files(ix) == sorted(listed(index))
        assert len(index.search("shared", 20)) == 12


def test_a_ctrl_c_just_after_the_store_committed_keeps_the_segment(tmp_path, monkeypatch):
    """SIGINT lands when SQLite's COMMIT returns: the commit took place, so its segment stays."""
    from babelir.index.docstore import DocStore

    ix = tmp_path / "ix"
    with Index.create(ix) as index:
        index.add(DOCS)
    real_commit = DocStore.commit

    def commit_then_interrupt(self):
        real_commit(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(DocStore, "commit", commit_then_interrupt)
    with Index.open(ix, writable=True) as index, pytest.raises(KeyboardInterrupt):
        index.add([Doc("d", "green tea")])
    monkeypatch.undo()
    with Index.open(ix) as index:
        assert seg_files(ix) == sorted(listed(index)) and len(listed(index)) == 2
        assert [d for d, _ in index.search("tea")] == ["d"]


def test_a_merge_never_makes_a_segment_larger_than_the_cap():
    assert segments.pick_merge([100] * 11, max_docs=550) == [0, 1, 2, 3, 4]  # the five smallest fit
    assert segments.pick_merge([400] * 11, max_docs=500) == []  # not even two fit
    assert segments.pick_merge([100] * 11, max_docs=10_000) == list(range(10))


def _sentences(count: int, start: int = 0) -> list:
    words = ["apples", "pears", "green", "blue", "sky", "tea", "red", "sea", "stone", "river"]
    return [Doc(f"d{n}", " ".join(words[(n * k) % 10] for k in range(1, 6))) for n in range(start, start + count)]


def _write_corpus(path, docs) -> None:
    import json

    path.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in docs), encoding="utf-8")


def test_a_build_merges_only_the_segments_it_wrote(tmp_path):
    from babelir.index.build import build_index

    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    _write_corpus(first, _sentences(50))
    _write_corpus(second, _sentences(30, start=50))
    ix, raw = tmp_path / "ix", tmp_path / "raw"
    summary = build_index(first, ix, quiet=True, batch_size=10, lang="en", workers=1)
    assert summary.merged == (5, 1)
    assert "postings: this build's 5 segments merged into 1" in summary.lines()
    unmerged = build_index(first, raw, quiet=True, batch_size=10, lang="en", workers=1, merge=False)
    assert unmerged.merged == (5, 5) and "postings: this build's 5 segments, not merged" in unmerged.lines()
    with Index.open(ix) as index, Index.open(raw) as other:
        old = listed(index)
        assert len(old) == 1 and seg_files(ix) == old and len(listed(other)) == 5
        assert index.search("green sky", 100) == other.search("green sky", 100)
    summary = build_index(second, ix, quiet=True, batch_size=10, lang="en", workers=1)
    assert summary.merged == (3, 1)
    with Index.open(ix) as index:
        assert listed(index)[0] == old[0] and len(listed(index)) == 2  # the first build's segment is kept as it was
        assert seg_files(ix) == sorted(listed(index))
    build_index(second, raw, quiet=True, batch_size=10, lang="en", workers=1, merge=False)
    with Index.open(raw, writable=True) as index, Index.open(ix) as merged:
        before = index.search("green sky", 100)
        assert before == merged.search("green sky", 100)
        assert index.optimize() == 7 and len(listed(index)) == 1 and seg_files(raw) == listed(index)
        assert index.search("green sky", 100) == before


@pytest.mark.parametrize("where", ["batches", "final merge"])
def test_a_re_run_merges_what_an_interrupted_build_wrote(tmp_path, monkeypatch, where):
    from babelir.index import merging
    from babelir.index.build import build_index
    from babelir.index.docstore import DocStore

    path = tmp_path / "c.jsonl"
    _write_corpus(path, _sentences(60))
    real_commit, real_merge, calls = DocStore.commit, merging.force_merge, {"n": 0}

    def crash_on_fourth_commit(self):
        calls["n"] += 1
        if calls["n"] == 4:  # the mark, then two batches committed
            raise KeyboardInterrupt
        real_commit(self)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "batches":
        monkeypatch.setattr(DocStore, "commit", crash_on_fourth_commit)
    else:
        monkeypatch.setattr(merging, "force_merge", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(path, tmp_path / "ix", quiet=True, batch_size=10, lang="en", workers=1)
    monkeypatch.setattr(DocStore, "commit", real_commit)
    monkeypatch.setattr(merging, "force_merge", real_merge)
    with Index.open(tmp_path / "ix") as index:
        assert len(listed(index)) == (2 if where == "batches" else 6)
    summary = build_index(path, tmp_path / "ix", quiet=True, batch_size=10, lang="en", workers=1)
    assert summary.merged == (6, 1)  # the interrupted build's segments too
    with Index.open(tmp_path / "ix") as index:
        assert len(listed(index)) == 1 and index.doc_count == 60
        assert index.store.get_meta(merging.MERGE_FROM) is None
    again = build_index(path, tmp_path / "ix", quiet=True, batch_size=10, lang="en", workers=1)
    assert again.added == 0 and again.merged == (0, 0)


def test_the_store_keeps_its_counts_through_adds_and_deletes(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add([Doc("a", "red apples", lang="en"), Doc("b", "grüne Birnen", lang="de"), Doc("c", "blue sky")])
        index.add([Doc("d", "rote Äpfel", lang="de")])
        index.delete(["b", "nope"])
        kept = index.store.counts()
        index.store.delete_meta("counts")  # what a store written before keeps: counted by a scan
        assert index.store.counts() == kept
        assert kept["docs"] == index.doc_count == 3 and kept["top"] == 3
        assert kept["languages"] == index.manifest["languages"] and sum(kept["languages"].values()) == 3
        assert kept["length"] == index.store.db.execute("SELECT sum(length) FROM docs").fetchone()[0]


def test_a_deleted_newest_document_s_docno_is_never_given_again(tmp_path):
    ix = tmp_path / "ix"
    with Index.create(ix) as index:
        index.add(DOCS)
        index.delete(["c"])  # docno 2, the newest
    with Index.open(ix, writable=True) as index:
        assert index.store.counts()["top"] == 2
        index.add([Doc("e", "blue sea")])
        docnos = dict(index.store.db.execute("SELECT id, docno FROM docs").fetchall())
        assert docnos["e"] == 3  # not 2: the deleted document's postings still carry docno 2
        assert [d for d, _ in index.search("blue")] == ["e"]


def test_joining_segments_without_deletes_writes_what_one_write_would(tmp_path):
    docs = [["red", "apples", "apples"], ["green", "pears"], ["blue"] * 70_000 + ["sky"], ["red", "sky", "é"],
            [], ["apples", "zebra"]]
    whole = segments.Postings.of(docs)
    expected = whole.write(tmp_path, "whole", list(range(6)), [f"d{i}" for i in range(6)])
    parts = []
    for number, (start, end) in enumerate([(0, 2), (2, 3), (3, 6)]):
        part = segments.Postings.of(docs[start:end])
        parts.append(part.write(tmp_path, f"p{number}", list(range(start, end)), [f"d{i}" for i in range(start, end)]))
    opened = [segments.Segment(tmp_path / f"{p['name']}.seg") for p in parts]
    assert any(s.tfs.dtype == np.uint32 for s in opened)
    joined = segments.merge_segments(tmp_path, "joined", opened, np.array([99], dtype=np.int64))
    assert joined["sha256"] == expected["sha256"] and joined["docs"] == 6


def test_segments_with_narrow_and_wide_counts_are_searched_together(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add([Doc("big", "spam " * 70_000), Doc("small", "spam eggs")])
        index.add([Doc("third", "spam spam eggs")])
        assert [s.tfs.dtype for s in index.lexical().segments] == [np.uint32, np.uint16]
        assert [d for d, _ in index.search("spam")] == ["big", "third", "small"]
        assert [d for d, _ in index.search("eggs")] == ["small", "third"]  # the shorter first


@pytest.fixture(params=["C", "numpy"])
def scoring(request, monkeypatch):
    """Search with the C scoring loops, then with the numpy path (KERNEL None)."""
    from babelir.index import lexical

    if request.param == "numpy":
        monkeypatch.setattr(lexical, "KERNEL", None)
    return request.param


def test_searches_from_many_threads_answer_as_one_thread_does(tmp_path, scoring):
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor

    docs = _sentences(3_000)
    queries = [" ".join(doc.text.split()[:n]) for n, doc in zip([1, 2, 3, 5] * 25, docs[::30])]
    with Index.create(tmp_path / "ix") as index:
        index.add(docs)
        alone = [index.search(q, k=20) for q in queries]
        lexical = index.lexical()
        terms = [Counter(index.analyzer.analyze(q, None)) for q in queries]
        with ThreadPoolExecutor(8) as pool:  # each thread scores in its own buffers
            together = list(pool.map(lambda t: lexical.search(t, 20, index.params), terms * 4))
    assert together == alone * 4


def test_a_search_stopped_midway_leaves_no_partial_sums_behind(tmp_path, monkeypatch, scoring):
    from babelir.index import lexical as module

    with Index.create(tmp_path / "ix") as index:
        index.add(_sentences(300))
        expected = index.search("pears tea", k=300)
        lexical = index.lexical()

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        class Stopped:  # the C loops, stopped after the sums were added, before they are reset
            accumulate = staticmethod(module.KERNEL.accumulate if module.KERNEL else None)
            top = staticmethod(interrupted)

        with monkeypatch.context() as patch:
            if scoring == "C":
                patch.setattr(module, "KERNEL", Stopped)
            else:
                patch.setattr(np, "greater", interrupted)  # after the sums were added, before they are reset
            with pytest.raises(KeyboardInterrupt):
                lexical.search({"pears": 1}, 5, index.params)
        assert index.search("pears tea", k=300) == expected


def test_adding_an_id_the_index_holds_is_a_clear_error_and_adds_nothing(tmp_path):
    from babelir.errors import BabelirError

    with Index.create(tmp_path / "ix") as index:
        index.add([Doc("a", "hello world")])
        with pytest.raises(BabelirError, match="id 'a' is already in the index"):
            index.add([Doc("b", "new"), Doc("a", "again")])
        with pytest.raises(BabelirError, match="id 'c' appears twice in the batch"):
            index.add([Doc("c", "x"), Doc("c", "y")])
        assert sorted(index.store.documents(["a", "b", "c"])) == ["a"]
        assert [d for d, _ in index.search("hello")] == ["a"]


def test_a_postings_file_cut_short_is_named(tmp_path, scoring):
    import os

    with Index.create(tmp_path / "ix") as index:
        index.add(DOCS)
        lexical = index.lexical()
        (tmp_path / "empty").write_bytes(b"")
        fd = os.open(tmp_path / "empty", os.O_RDONLY)
        try:
            if lexical._files is not None:  # the C reads
                lexical._files = (np.array([fd]), *lexical._files[1:])
            for segment in lexical.segments:  # numpy's
                segment.postings_at = (fd, *segment.postings_at[1:])
            with pytest.raises(ValueError, match=r"\.seg: postings file cut short"):
                lexical.search({"green": 1}, 5, index.params)
        finally:
            os.close(fd)


def test_a_segment_cut_short_before_it_is_opened_is_named(tmp_path):
    import os

    with Index.create(tmp_path / "ix") as index:
        index.add(_sentences(300))
    path = next((tmp_path / "ix" / "lexical").glob("*.seg"))
    os.truncate(path, path.stat().st_size // 2)
    with Index.open(tmp_path / "ix") as index:
        with pytest.raises(ValueError, match=rf"{path.name}: postings file cut short"):
            index.search("pears")


@pytest.mark.parametrize("damage", [b"", b"BIRSEG01" + (40).to_bytes(8, "little") + b"{not json"])
def test_an_empty_segment_or_one_with_a_damaged_header_is_named(tmp_path, damage):
    with Index.create(tmp_path / "ix") as index:
        index.add(DOCS)
    path = next((tmp_path / "ix" / "lexical").glob("*.seg"))
    path.write_bytes(damage)
    with Index.open(tmp_path / "ix") as index:
        with pytest.raises(ValueError, match=rf"{path.name}: (postings file cut short|damaged header)"):
            index.search("green")
