"""The postings cache behind BM25 search: derived from the store, persisted, rebuilt when stale."""

from babelir.index.impact import CACHE, ImpactCache
from babelir.index.core import Index
from babelir.types import Doc

DOCS = [Doc("a", "red apples and green apples"), Doc("b", "green pears"), Doc("c", "blue sky")]


def test_cache_is_saved_and_reused(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add(DOCS)
        first = index.search("apples")
    assert (tmp_path / "ix" / CACHE).exists()
    assert (tmp_path / "ix" / CACHE).stat().st_mode & 0o777 == 0o644  # readable like the index's other files
    with Index.open(tmp_path / "ix") as index:
        loaded = ImpactCache.load(tmp_path / "ix", index.store.generation())
        assert loaded is not None and loaded.ids == ["a", "b", "c"]
        assert index.search("apples") == first


def test_cache_is_rebuilt_after_add_and_delete(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add(DOCS)
        assert [d for d, _ in index.search("green")] == ["b", "a"]  # b is shorter
        index.add([Doc("d", "green green green")])
        assert [d for d, _ in index.search("green")][0] == "d"
        index.delete(["d", "b"])
        assert [d for d, _ in index.search("green")] == ["a"]
        assert index.search("pears") == []


def test_damaged_cache_is_rebuilt(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add(DOCS)
        expected = index.search("sky")
    (tmp_path / "ix" / CACHE).write_bytes(b"not a zip file")
    with Index.open(tmp_path / "ix") as index:
        assert index.search("sky") == expected


def test_unwritable_directory_keeps_the_cache_in_memory(tmp_path, monkeypatch):
    with Index.create(tmp_path / "ix") as index:
        index.add(DOCS)
    (tmp_path / "ix" / CACHE).unlink(missing_ok=True)

    def refuse(self, directory):
        raise PermissionError(f"{directory}: read-only")

    monkeypatch.setattr(ImpactCache, "save", refuse)
    with Index.open(tmp_path / "ix") as index:
        assert index.search("sky")[0][0] == "c"
    assert not (tmp_path / "ix" / CACHE).exists()


def test_ties_at_the_cut_are_ordered_like_trec_eval(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add([Doc(f"d{i}", "same words here") for i in range(10)])
        top = index.search("words", k=3)
        assert [d for d, _ in top] == ["d9", "d8", "d7"]
        assert len({s for _, s in top}) == 1
