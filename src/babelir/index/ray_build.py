"""Build an index across a Ray cluster: workers analyse and encode, the driver commits in order.

``build_index(corpus, out, ray=RayOptions("auto"))`` (``babelir index CORPUS -o INDEX --ray auto``)
reads the corpus and resolves each document's language in the driver, as a local build does, and
sends each batch to a Ray actor. An actor loads the index's analyzer (shipped from the driver) and
its encoder (by name, ``get_encoder``) once, then returns per document its terms
(``analyzer.analyze(passage, lang)``), and per batch its dense vectors (n, dim) float32 and learned
sparse vectors where the index has them. The driver commits what comes back **in corpus order**
through :meth:`babelir.index.core.Index.add` (``terms=`` and ``encoded=``), one commit per batch,
so the index equals the one a local build makes, and an interrupted build resumes the same way
(documents already in the index are skipped).

A worker that dies (its process killed, its node lost) loses only uncommitted work: Ray restarts
the actor (``max_restarts``) and the driver resubmits the batches it held, to the next worker, up
to :attr:`RayOptions.retries` times per batch. At most ``in_flight`` batches per worker are read
ahead, so the driver's memory stays bounded by the batch size, not the corpus size.

Ray is an optional extra (``pip install 'babelir[ray]'``), imported only here, when used.
Reference: Moritz et al., "Ray: A Distributed Framework for Emerging AI Applications", OSDI 2018.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from babelir.errors import BabelirError
from babelir.index.batches import committing_before_errors, corpus_batches
from babelir.types import Doc


@dataclass
class RayOptions:
    """Where and how to run a build on Ray.

    ``address``: ``local`` (start a Ray instance in this process, stopped at the end), ``auto``
    (join the cluster ``ray start`` runs on this machine), ``HOST:PORT`` (a head node's GCS) or
    ``ray://HOST:PORT`` (Ray Client). A Ray already initialised in this process is used as it is.
    ``workers``: actors (default: the cluster's CPUs // ``cpus``, at least 1); ``cpus`` / ``gpus``:
    resources per actor (Ray sets ``OMP_NUM_THREADS`` to ``cpus``, and ``CUDA_VISIBLE_DEVICES`` for
    ``gpus``); ``in_flight``: batches queued per actor; ``retries``: resubmissions of one batch
    after its worker died; ``encoder_cache``: whether workers use the local encoding cache;
    ``after_commit(batches_committed, actors, pids)``: called after each commit, with the actors and
    the process ids they started in (tests use it to kill a worker).
    """

    address: str = "local"
    workers: int | None = None
    cpus: float = 1.0
    gpus: float = 0.0
    in_flight: int = 2
    retries: int = 3
    encoder_cache: bool = True
    after_commit: Callable | None = field(default=None, repr=False)


def require_ray():
    """The ``ray`` module, or a one-line BabelirError naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise BabelirError("--ray needs the package ray: pip install 'babelir[ray]'") from None
    return ray


def connect(address: str) -> bool:
    """Connect this process to Ray at ``address`` (see :class:`RayOptions`); True when this call
    started or joined it (the caller then shuts it down), False when Ray was already initialised.
    An unreachable cluster is a one-line BabelirError."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    import logging

    options = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    if address == "auto":  # ray.init would wait forever on the cluster a stale record names
        _check_reachable(_running_cluster(), given="auto")
    elif address != "local":
        _check_reachable(address)
    try:
        if address == "local":
            ray.init(address="local", **options)
        else:
            if address.startswith("ray://"):  # Ray Client takes no dashboard or logging options
                options = {}
            ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BabelirError(f"cannot reach Ray at {address}: {reason} (is `ray start --head` running "
                           f"there? see docs/scale.md)") from None
    return True


def _running_cluster() -> str:
    """The address of the cluster ``ray start`` runs on this machine, as ``ray.init("auto")`` finds
    it: ``$RAY_ADDRESS``, else the record ``ray start`` leaves (``/tmp/ray/ray_current_cluster``).
    None found is a one-line BabelirError."""
    import tempfile
    from pathlib import Path

    found = os.environ.get("RAY_ADDRESS", "").strip()
    if not found:
        record = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
        try:
            found = record.read_text(encoding="utf-8").strip()
        except OSError:
            found = ""
    if not found or found == "auto":
        raise BabelirError("--ray auto: no Ray cluster runs on this machine (start one with `ray start --head`, "
                           "or give --ray HOST:PORT, or --ray alone for a local instance)")
    return found


def _check_reachable(address: str, timeout: float = 10.0, given: str | None = None) -> None:
    """Refuse at once a ``[ray://]HOST:PORT`` that accepts no TCP connection (``ray.init`` would
    retry it for minutes, or for ever). ``given``: what the user wrote, when ``address`` was found
    from it (``auto``)."""
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit() or not host or not 0 < int(port) < 65536:
        raise BabelirError(f"--ray {given or address}: expected auto, HOST:PORT or ray://HOST:PORT"
                           + (f" (found {address!r})" if given else ""))
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        where = f"{address} (the cluster --ray {given} found)" if given else address
        raise BabelirError(f"cannot reach Ray at {where}: {exc.strerror or exc} (is `ray start --head` "
                           f"running there? see docs/scale.md)") from None


class _Worker:
    """A Ray actor's state: the analyzer and encoder, loaded once (see :func:`_actor_class`)."""

    def __init__(self, analyzer, encoder: dict | None, dense: bool, sparse: bool, cache: bool):
        from babelir.text.e5_pieces import expect_many_words

        expect_many_words()  # a worker analyses documents: SentencePiece, not the lean cutter
        self.analyzer = analyzer
        self.encoder = None
        self.dense, self.sparse = dense, sparse
        if encoder is not None:
            from babelir.encode.base import get_encoder

            self.encoder = get_encoder(encoder["name"], cache=cache)
            if self.encoder.dim != encoder["dim"]:
                raise BabelirError(f"encoder {encoder['name']} on a Ray worker gives {self.encoder.dim} "
                                   f"dimensions, the index has {encoder['dim']}")

    def pid(self) -> int:
        return os.getpid()

    def work(self, texts: list[str], langs: list[str | None]):
        """(terms per document, dense (n, dim) float32 or None, sparse list or None)."""
        terms = [self.analyzer.analyze(text, lang) for text, lang in zip(texts, langs)]
        vectors = self.encoder.encode_passages(texts) if self.dense else None
        sparse = self.encoder.encode_sparse(texts) if self.sparse else None
        return terms, vectors, sparse


def _actor_class(ray, options: RayOptions):
    resources = {"num_cpus": options.cpus}
    if options.gpus:
        resources["num_gpus"] = options.gpus
    # Ray restarts a dead actor's process; its tasks are not retried by Ray but resubmitted by the
    # driver, which keeps each batch until it is committed (and counts what it resubmits)
    return ray.remote(max_restarts=max(options.retries, 1), max_task_retries=0, **resources)(_Worker)


def add_corpus(index, corpus, bad, lang: str | None, batch_size: int, quiet: bool, summary,
               options: RayOptions) -> None:
    """Add the corpus's documents that ``index`` does not hold yet, analysed and encoded on Ray,
    committed in corpus order in batches of ``batch_size`` (the same batches a local build makes).
    Fills ``summary`` (:class:`babelir.index.build.BuildSummary`) as the local build does, and
    ``summary.ray``. Raises BabelirError when Ray cannot be reached, and when a batch's workers
    died more than ``options.retries`` times (every batch before it is committed)."""
    from babelir.progress import progress

    ray = require_ray()
    started = connect(options.address)
    actors = []
    try:
        manifest = index.manifest
        encoder = manifest.get("encoder") or (manifest.get("sparse") or {}).get("encoder")
        cpus = ray.cluster_resources().get("CPU", 1)
        count = options.workers or max(1, int(cpus // max(options.cpus, 1e-9)))
        gpus = ray.cluster_resources().get("GPU", 0)
        if count * options.cpus > cpus or count * options.gpus > gpus:  # the extra actors would wait forever
            raise BabelirError(f"{count} Ray workers of {options.cpus:g} CPUs and {options.gpus:g} GPUs need more than "
                               f"the cluster has ({cpus:g} CPUs, {gpus:g} GPUs): fewer --ray-workers, or more nodes")
        actor = _actor_class(ray, options)
        analyzer = index.analyzer  # pickled into each actor's spec (no object-store copy to lose on a restart)
        actors = [actor.remote(analyzer, encoder, bool(manifest.get("encoder")), bool(manifest.get("sparse")),
                               options.encoder_cache) for _ in range(count)]
        try:  # wait for every worker to load the analyzer and the encoder: a failure is said before any work
            pids = ray.get([handle.pid.remote() for handle in actors])
        except ray.exceptions.RayError as exc:
            reason = next((line for line in str(exc).splitlines() if "Error" in line), type(exc).__name__)
            raise BabelirError(f"Ray workers could not start: {reason.strip()}") from None
        summary.ray = {"address": options.address, "workers": count, "cluster_cpus": cpus, "resubmitted": 0}
        bar = progress(desc="indexing (ray)", unit="doc", quiet=quiet)
        pending: deque = deque()  # [ref, actor number, batch, sources, tries], in corpus order
        turn = 0

        def submit(batch: list[Doc], sources: list[str], tries: int = 0) -> list:
            nonlocal turn
            texts = [d.passage for d in batch]
            number = turn % count
            turn += 1
            return [actors[number].work.remote(texts, [d.lang for d in batch]), number, batch, sources, tries]

        def commit_first() -> None:
            entry = pending[0]
            while True:
                try:
                    terms, vectors, sparse = ray.get(entry[0])
                    break
                except ray.exceptions.RayTaskError as exc:  # the work itself failed: not a worker's death
                    cause = getattr(exc, "cause", None)
                    raise (cause if isinstance(cause, BabelirError) else exc) from None
                except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                        ray.exceptions.ObjectLostError) as exc:
                    if entry[4] >= options.retries:
                        raise BabelirError(f"Ray workers died {entry[4] + 1} times on the batch starting at "
                                           f"document {entry[2][0].id} ({type(exc).__name__}); the "
                                           f"{summary.added} documents before it are committed: re-run to "
                                           f"resume") from None
                    entry[:] = submit(entry[2], entry[3], entry[4] + 1)
                    summary.ray["resubmitted"] += 1
            pending.popleft()
            index.add(entry[2], entry[3], encoded=(vectors, sparse), terms=terms)
            summary.added += len(entry[2])
            bar.update(len(entry[2]))
            summary.ray["committed"] += 1
            if options.after_commit is not None:
                options.after_commit(summary.ray["committed"], actors, pids)

        summary.ray["committed"] = 0

        def commit_read() -> None:  # bad input further on: commit what was read before it, as a local build does
            while pending:
                commit_first()

        batches = corpus_batches(index, corpus, bad, lang, batch_size, summary)
        for batch, sources in committing_before_errors(batches, commit_read):
            pending.append(submit(batch, sources))
            while len(pending) >= count * max(options.in_flight, 1):
                commit_first()
        while pending:
            commit_first()
        bar.close()
    finally:
        for handle in actors:
            try:
                ray.kill(handle)
            except Exception:  # noqa: BLE001 - a lost connection: the cluster reclaims its actors
                pass
        if started:
            ray.shutdown()
