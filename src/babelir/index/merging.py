"""Merging an index's postings segments (:mod:`babelir.index.segments`), as Lucene does.

- :func:`merge_tiers`, after every commit: a tier (segments of similar size) that holds more than
  ``per_tier`` segments has its smallest merged into one (:func:`babelir.index.segments.pick_merge`,
  like Lucene's TieredMergePolicy), never into one of more than :data:`MAX_MERGE_DOCS` documents.
- :func:`force_merge`, at the end of a bulk build (``babelir index``; ``--no-merge`` skips it:
  :func:`start_build` / :func:`finish_build`, which also merge what an interrupted build wrote) or
  on demand (:meth:`babelir.index.core.Index.optimize`): consecutive segments are joined into as
  few as the cap allows, like Lucene's ``forceMerge`` (Anserini's ``-optimize``). Fewer segments
  make searches faster (each query term is looked up once per segment) and the index smaller (each
  segment keeps its own vocabulary).

Every merge is crash-safe like a commit: the merged file is written and fsynced first, then the
store's segment list changes in one transaction, then the old files go. Deleted documents are
dropped. Memory: about 40 bytes per posting merged (~4 GB for a million passages of ~100 terms).
"""

from __future__ import annotations

import numpy as np

MAX_MERGE_DOCS = 1_000_000
"""No merge makes a segment of more documents (Lucene caps merged segments at 5 GB)."""


def merge_tiers(index) -> None:
    """One tiered merge step, if a tier holds too many segments."""
    from babelir.index.segments import pick_merge

    listing = index.store.get_meta("segments", [])
    picked = pick_merge([entry["docs"] for entry in listing], max_docs=MAX_MERGE_DOCS)
    if picked:
        _merge(index, picked)


MERGE_FROM = "merge_from"
"""Store meta key: the commit generation from which a build's segments are merged when it ends.
Set when a build starts (unless an interrupted build left one: that build's segments are then
merged too, so a re-run finishes its job), removed when its final merge is done."""


def generation_of(name: str) -> int:
    """The commit generation a segment name carries (:func:`babelir.index.segments.new_name`)."""
    return int(name[1:10])


def start_build(index) -> int:
    """Record where this build's segments begin (or keep an interrupted build's mark); returns it."""
    mark = index.store.get_meta(MERGE_FROM)
    if mark is None:
        mark = index.store.generation() + 1
        with index.store.transaction():
            index.store.set_meta(MERGE_FROM, mark)
    return mark


def finish_build(index, mark: int, merge: bool, max_docs: int = MAX_MERGE_DOCS) -> tuple[int, int]:
    """Merge the segments of generation ``mark`` on (with ``merge``), then forget the mark.
    Returns (segments from the mark on before merging, after)."""
    listing = index.store.get_meta("segments", [])
    keep = {entry["name"] for entry in listing if generation_of(entry["name"]) < mark}
    ours = len(listing) - len(keep)
    merged = force_merge(index, max_docs, keep=keep) if merge else 0
    with index.store.transaction():
        index.store.delete_meta(MERGE_FROM)
    return ours, ours - merged


def force_merge(index, max_docs: int = MAX_MERGE_DOCS, keep: set[str] | None = None) -> int:
    """Join runs of consecutive segments of together at most ``max_docs`` documents, leaving the
    segments named in ``keep`` as they are (a build merges only the segments it wrote: adding a
    few documents to a large index never rewrites it); returns how many segments were merged away."""
    removed = 0
    while True:
        listing = index.store.get_meta("segments", [])
        sizes = [entry["docs"] if entry["name"] not in (keep or ()) else None for entry in listing]
        run = _first_run(sizes, max_docs)
        if not run:
            return removed
        _merge(index, run)
        removed += len(run) - 1


def _first_run(sizes: list[int | None], max_docs: int) -> list[int]:
    """The positions of the first run of two or more consecutive segments that fit in ``max_docs``
    (a size of None: a segment to leave alone)."""
    start = 0
    while start < len(sizes):
        end, total = start, 0
        while end < len(sizes) and sizes[end] is not None and total + sizes[end] <= max_docs:
            total += sizes[end]
            end += 1
        if end - start >= 2:
            return list(range(start, end))
        start = max(end, start + 1)
    return []


def _merge(index, picked: list[int]) -> None:
    """Merge the segments at positions ``picked`` of the store's list into one, in their place."""
    from babelir.index.segments import SUFFIX, Segment, merge_segments, new_name, remove_unlisted

    folder = index.postings_folder
    listing = index.store.get_meta("segments", [])
    parts = [Segment(folder / f"{listing[p]['name']}{SUFFIX}") for p in picked]
    deleted = np.asarray(index.store.deleted_docnos(), dtype=np.int64)
    dropped = [int(n) for part in parts for n in np.asarray(part.docnos)[np.isin(part.docnos, deleted)]]
    merged = merge_segments(folder, new_name(index.store.generation()), parts, deleted)
    for part in parts:
        part.close()
    del parts
    kept = [entry for p, entry in enumerate(listing) if p not in picked]
    kept.insert(picked[0], merged)
    try:
        with index.store.transaction():
            index.store.set_meta("segments", kept)
            index.store.forget_deleted(dropped)
    except BaseException:
        index._discard(merged["name"])
        raise
    index._write_manifest()
    remove_unlisted(folder, {entry["name"] for entry in kept})
