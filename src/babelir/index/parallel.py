"""Analysis in worker processes, for a local build of a large corpus.

Analysis (segmentation, lemmas, stems, mE5 pieces) is pure Python around C libraries and holds
the GIL, so a build on one process uses one core. :class:`AnalysisPool` runs the index's own
analyzer (rebuilt from its manifest, :func:`babelir.text.analyzer.analyzer_from_config`) in
``workers`` forked processes; :func:`babelir.index.build.build_index` hands it each batch as soon as
the batch is read and commits the batch before while the workers analyse, so reading, analysing
and committing overlap. Each language's documents go to one worker as far as even shares allow
(:meth:`AnalysisPool.plan`): a worker remembers the words it has analysed, so one worker, not
each, pays for learning a language's words. Each chunk of documents comes back as its postings
arrays (:class:`babelir.index.segments.Postings`), placed at the chunk's rows of the batch and
committed through the same :meth:`babelir.index.core.Index.add` as a one-process build: the index
is the same, byte for byte.

- Small batches (fewer than :data:`MIN_BATCH` documents) are analysed in the build's process:
  starting workers costs more than it saves.
- Workers are forked (Linux): a spawned worker would import the caller's ``__main__`` again, which
  re-runs a script that calls :func:`~babelir.index.build.build_index` without a ``__main__``
  guard. Where fork is not the platform's safe default (macOS, Windows), the build analyses in
  its own process (:func:`available`).
- A worker that dies (killed, out of memory) breaks the pool: the batch is analysed in the
  build's process and the rest of the build goes on without workers, with a warning.
- Workers ignore Ctrl-C (the build handles it and stops them at once, mid-batch: that batch
  would not be committed) and exit when the build's process dies, so none is left behind.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

MIN_BATCH = 2_000
CHUNK = 5_000  # documents per task at most (a batch is shared evenly among the workers): joining
# the tasks' vocabularies costs the committing process one dict lookup per distinct term per task

_analyzer = None


def available() -> bool:
    """Whether analysis workers can run here (forked processes: Linux)."""
    import multiprocessing
    import sys

    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def default_workers(cap: int | None = 8) -> int:
    """The CPUs this process may run on (at most ``cap``), or 1. A build asked for more workers
    than CPUs gets this many (analysis is CPU-bound: more would only share the CPUs, each with its
    own analyzer in memory)."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        count = os.cpu_count() or 1
    return max(1, min(count, cap) if cap else count)


def _start(config: dict, directory: str, parent: int) -> None:
    import signal
    import threading
    import time

    from babelir.text.analyzer import analyzer_from_config
    from babelir.text.e5_pieces import expect_many_words

    global _analyzer
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build's process handles Ctrl-C and stops the pool

    def watch() -> None:  # a build killed (SIGKILL) cannot stop its workers: they stop themselves
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    expect_many_words()  # a worker analyses documents: SentencePiece, not the lean cutter
    _analyzer = analyzer_from_config(config, Path(directory))


def _analyze(texts: list[str], langs: list[str | None]):
    from babelir.index.segments import Postings

    return Postings.of([_analyzer.analyze(text, lang) for text, lang in zip(texts, langs)])


class AnalysisPool:
    """``workers`` processes analysing documents with ``index``'s analyzer."""

    def __init__(self, index, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        context = multiprocessing.get_context("fork")
        arguments = (index.manifest["analyzer"], str(index.directory), os.getpid())
        # one executor per worker, so that a language's documents go to the same one
        self._executors: list | None = [ProcessPoolExecutor(1, mp_context=context, initializer=_start,
                                                            initargs=arguments) for _ in range(workers)]
        self._homes: dict[str | None, int] = {}  # language -> its worker
        self._sent = [0] * workers  # documents of its languages each worker was sent so far

    def plan(self, langs: list[str | None]) -> list[list[int]]:
        """Which documents of a batch (given as their languages) each worker analyses: the rows
        of its languages, ascending. A language stays with the worker it was first given to (the
        worker with the fewest of its languages' documents so far), so that one worker, not every
        one, learns its words (each keeps the words it has analysed, :class:`babelir.text.segment.WordMemo`);
        what exceeds a worker's even share of the batch goes to the least loaded."""
        share = -(-len(langs) // self.workers)
        groups: dict[str | None, list[int]] = {}
        for row, lang in enumerate(langs):
            groups.setdefault(lang, []).append(row)
        rows: list[list[int]] = [[] for _ in range(self.workers)]
        loads = [0] * self.workers
        spill: list[list[int]] = []
        for lang, members in sorted(groups.items(), key=lambda item: -len(item[1])):
            home = self._homes.get(lang)
            if home is None:
                home = self._homes[lang] = min(range(self.workers), key=lambda w: (self._sent[w], w))
            self._sent[home] += len(members)
            take = max(0, min(len(members), share - loads[home]))
            rows[home] += members[:take]
            loads[home] += take
            spill.append(members[take:])
        for members in spill:
            while members:
                worker = min(range(self.workers), key=lambda w: (loads[w], w))
                take = max(1, min(len(members), share - loads[worker]))
                rows[worker] += members[:take]
                loads[worker] += take
                members = members[take:]
        return [sorted(r) for r in rows]

    def submit(self, docs) -> list | None:
        """Start analysing ``docs`` (a batch); returns a job for :meth:`result`, or None when the
        batch is small or the pool broke (then :meth:`result` gives None: analyse in-process)."""
        if self._executors is None or len(docs) < MIN_BATCH:
            return None
        from concurrent.futures.process import BrokenProcessPool

        import numpy as np

        texts = [d.passage for d in docs]
        langs = [d.lang for d in docs]
        job = []
        try:
            for executor, rows in zip(self._executors, self.plan(langs)):
                for start in range(0, len(rows), CHUNK):
                    chunk = rows[start:start + CHUNK]
                    job.append((executor.submit(_analyze, [texts[r] for r in chunk], [langs[r] for r in chunk]),
                                np.array(chunk, dtype=np.int64)))
        except BrokenProcessPool:
            self._broken()
            return None
        return job

    def result(self, job: list | None):
        """The batch's :class:`~babelir.index.segments.Postings`, or None (analyse the batch in-process)."""
        if job is None:
            return None
        from concurrent.futures.process import BrokenProcessPool

        from babelir.index.segments import Postings

        try:
            return Postings.concat([future.result() for future, _ in job], [rows for _, rows in job])
        except BrokenProcessPool:
            self._broken()
            return None

    def _broken(self) -> None:
        if self._executors is not None:
            log.warning("an analysis worker died; analysing the rest of the build in this process")
            self.close()

    def close(self) -> None:
        """Stop the workers at once, in the middle of a batch if need be (after Ctrl-C or an
        error, the batch they analyse will not be committed: waiting for it would only delay the
        exit by seconds)."""
        if self._executors is not None:
            executors, self._executors = self._executors, None
            processes = [process for executor in executors  # no public way before Python 3.14
                         for process in (getattr(executor, "_processes", None) or {}).values()]
            for executor in executors:
                executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(5)
