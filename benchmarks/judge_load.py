"""Load on the judging page: concurrent assessors on a 100,000-pair project, then qrels export.

    OMP_NUM_THREADS=2 python -m benchmarks.judge_load                 # the issue's targets (about 50 s)
    OMP_NUM_THREADS=2 python -m benchmarks.judge_load --quick         # 10,000 pairs, 200 judgments, < 30 s
    OMP_NUM_THREADS=2 python -m benchmarks.judge_load --target store-threads   # no server: assign.* in threads
        [--pairs 100000] [--assessors 10] [--judgments 2000] [--think-ms 0 --think-ms 50]
        [--export-judgments 100000] [--target http|store-threads|store-processes] [--keep DIR]

Targets (the judging issue): the next-pair request answers with p99 < 100 ms on a project of 100,000
pairs while 10 assessors judge at once; exporting 100,000 judgments takes under 5 s.

1. Builds a synthetic project with :meth:`Project.create` and direct inserts (no index, no
   ``babelir pool``): ``pairs / 10`` queries of 10 documents each in 12 languages (Thai, Arabic,
   Chinese, Japanese, Hindi, English …; each passage 300–800 characters, made of the demo
   collection's passages in that language), positions and ``needed`` set as ``pool._order`` sets
   them (queries in order, then priority; overlap 0.1 → about 10 % of pairs need two people), and
   ``--assessors`` people: two read every language, the others two or three languages each.
2. ``--target http`` (default): starts ``python -m babelir judge serve PROJECT`` on a free loopback
   port; each assessor is a thread with its own ``httpx.Client`` that logs in, then loops
   ``GET /api/next`` → think ``--think-ms`` → ``POST /api/judgments`` until ``--judgments`` are
   acknowledged in all, after an untimed warm-up (:func:`warm_up`). ``store-threads`` calls :func:`assign.next_pair` / :func:`assign.record`
   from threads sharing one :class:`Project` (what the web app does underneath);
   ``store-processes`` from processes, one connection each (is SQLite's write lock the limit?).
3. First one assessor alone (``--judgments / 10``: the service time without queueing), then all
   at once per think time. Prints count, errors, p50/p95/p99/max of next and of judge, throughput
   (and the load average: other work on the machine shows in the tails); checks that no pair
   was handed to more people than it needs (a needed=1 pair to one assessor only), nor twice to
   one assessor, and that the judgments committed in the database are exactly those acknowledged.
4. Fills the project to ``--export-judgments`` judgments directly in SQLite (pairs in judging order,
   each by as many assessors as it needs, 3 % skips) and times ``babelir judge export PROJECT -o
   qrels`` as a whole process, then ``babelir eval`` of a 10-per-query run against those qrels.

Ratios against the targets close the output. There is no installable peer judging tool to compare
with: TREC's assessment software is not distributed, and general annotation servers (Doccano, Label
Studio) neither pool runs nor write qrels.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

LANGS = ("en", "es", "de", "fr", "ru", "ar", "hi", "th", "zh", "ja", "ko", "sw")
SECRET = "benchmark-secret"
NEXT_TARGET_MS = 100.0
EXPORT_TARGET_S = 5.0


# -- the synthetic project ----------------------------------------------------------------------
def build_project(directory: Path, pairs: int, assessors: int, seed: int = 7) -> dict:
    """A project of ``pairs`` pairs (10 per query) and ``assessors`` people; returns
    ``{"needed": {pair id: needed}, "names": [...], "seconds": build time}``."""
    from babelir.io.demo import load_demo
    from babelir.judge.pool import _fraction
    from babelir.judge.project import Project

    started = time.perf_counter()
    rng = random.Random(seed)
    demo = load_demo()
    by_lang: dict[str, list[str]] = {}
    for doc in demo.docs:
        by_lang.setdefault(doc.lang, []).append(doc.text)
    query_texts: dict[str, list[str]] = {}
    for q in demo.queries:
        query_texts.setdefault(q.lang, []).append(q.text)

    def passage(lang: str) -> str:
        target, parts = rng.randint(300, 800), []
        while sum(map(len, parts)) < target:
            parts.append(rng.choice(by_lang[lang]))
        return " ".join(parts)[:target]

    n_queries = max(1, pairs // 10)
    queries, docs, rows, contributions = [], [], [], []
    for qn in range(n_queries):
        lang = LANGS[qn % len(LANGS)]
        qid = f"{lang}-{qn}"
        queries.append((qid, rng.choice(query_texts[lang]), lang, qn))
        for rank in range(1, 11):
            docno = f"{lang}-d{qn}-{rank}"
            docs.append((docno, "", passage(lang), lang))
            pair_id = len(rows) + 1
            needed = 2 if _fraction(f"overlap\t{qid}\t{docno}") < 0.1 else 1  # as pool._order
            rows.append((pair_id, qid, docno, lang, qn * 10 + rank - 1, needed))
            contributions.append((pair_id, "synthetic.run", rank))
    project = Project.create(directory, overlap=0.1)
    with project.transaction() as db:
        db.executemany("INSERT INTO queries VALUES (?, ?, ?, ?)", queries)
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", docs)
        db.executemany("INSERT INTO pairs(id, qid, docno, lang, position, needed) VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO contributions VALUES (?, ?, ?)", contributions)
        db.execute("INSERT INTO runs VALUES ('synthetic.run', 'synthetic.run', 0)")
        for key, value in (("order", "rrf"), ("max_per_query", 0), ("seed", 0), ("index", "synthetic")):
            project.set_meta(key, value)
    names = {}
    for n in range(assessors):  # two read everything; the others two or three languages
        langs = None if n < 2 else [LANGS[(n * 3 + k) % len(LANGS)] for k in range(2 + n % 2)]
        names[f"assessor{n}"] = set(langs or LANGS)
        project.add_assessor(f"assessor{n}", langs, SECRET)
    project.close()
    return {"needed": {r[0]: r[5] for r in rows}, "names": names, "seconds": time.perf_counter() - started}


# -- assessors at work ----------------------------------------------------------------------------
class Tally:
    """What the clients saw: latencies (ms), errors, pairs handed out, judgment ids acknowledged."""

    def __init__(self, limit: int):
        self.limit, self.lock = limit, threading.Lock()
        self.taken = 0
        self.next_ms: list[float] = []
        self.judge_ms: list[float] = []
        self.errors: list[str] = []
        self.given: list[tuple[str, int]] = []
        self.acked: list[int] = []

    def take(self) -> bool:
        with self.lock:
            if self.taken >= self.limit:
                return False
            self.taken += 1
            return True

    def merge(self, other: dict) -> None:
        for key in ("next_ms", "judge_ms", "errors", "given", "acked"):
            getattr(self, key).extend(other[key])


def _grade(rng: random.Random) -> int:
    return rng.choices((0, 1, 2, 3), weights=(50, 25, 15, 10))[0]


def http_assessor(url: str, name: str, think_ms: float, tally: Tally, start: threading.Barrier) -> None:
    import httpx

    rng = random.Random(name)
    with httpx.Client(base_url=url, timeout=60) as client:
        try:
            token = client.post("/api/login", json={"name": name, "secret": SECRET}).json()["token"]
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            tally.errors.append(f"{name} login: {exc!r}")
            start.wait()
            return
        client.headers["Authorization"] = f"Bearer {token}"
        start.wait()
        while tally.take():
            began = time.perf_counter()
            try:
                response = client.get("/api/next")
                pair = response.json()["pair"] if response.status_code == 200 else None
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                response, pair = None, None
                tally.errors.append(f"{name} next: {exc!r}")
            tally.next_ms.append(1000 * (time.perf_counter() - began))
            if response is not None and response.status_code != 200:
                tally.errors.append(f"{name} next: HTTP {response.status_code} {response.text[:200]}")
            if pair is None:
                break  # nothing left for this assessor (or an error, counted)
            tally.given.append((name, pair["id"]))
            if think_ms:
                time.sleep(think_ms / 1000)
            began = time.perf_counter()
            try:
                response = client.post("/api/judgments", json={"pair_id": pair["id"], "grade": _grade(rng),
                                                               "status": "judged", "seconds": think_ms / 1000})
                if response.status_code == 200:
                    tally.acked.append(int(response.json()["judgment"]))
                else:
                    tally.errors.append(f"{name} judge: HTTP {response.status_code} {response.text[:200]}")
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                tally.errors.append(f"{name} judge: {exc!r}")
            tally.judge_ms.append(1000 * (time.perf_counter() - began))


def store_assessor(project, name: str, think_ms: float, tally: Tally, start) -> None:
    """The same loop on :mod:`babelir.judge.assign`, without HTTP."""
    from babelir.judge import assign

    rng = random.Random(name)
    start.wait()
    while tally.take():
        began = time.perf_counter()
        try:
            pair = assign.next_pair(project, name)
        except Exception as exc:  # noqa: BLE001 -- counted, reported
            pair = None
            tally.errors.append(f"{name} next: {exc!r}")
        tally.next_ms.append(1000 * (time.perf_counter() - began))
        if pair is None:
            break
        tally.given.append((name, pair["id"]))
        if think_ms:
            time.sleep(think_ms / 1000)
        began = time.perf_counter()
        try:
            tally.acked.append(assign.record(project, name, pair["id"], _grade(rng), "judged", think_ms / 1000))
        except Exception as exc:  # noqa: BLE001
            tally.errors.append(f"{name} judge: {exc!r}")
        tally.judge_ms.append(1000 * (time.perf_counter() - began))


class _SharedCount:
    """Tally.take across processes."""

    def __init__(self, value, limit: int):
        self.value, self.limit = value, limit

    def __call__(self) -> bool:
        with self.value.get_lock():
            if self.value.value >= self.limit:
                return False
            self.value.value += 1
            return True


def _process_assessor(directory: str, name: str, think_ms: float, count, limit: int, start, out) -> None:
    from babelir.judge.project import Project

    tally = Tally(limit)
    tally.take = _SharedCount(count, limit)
    with Project.open(directory) as project:
        store_assessor(project, name, think_ms, tally, start)
    out.put({key: getattr(tally, key) for key in ("next_ms", "judge_ms", "errors", "given", "acked")})


def warm_up(url: str, names: dict[str, set[str]], tally: Tally, cap: int = 200) -> float:
    """One assessor at a time, next → judge until each has been shown a pair of each of its
    languages (the server loads each language's word breaker for the passage marks on its first
    pair: seconds); returns the slowest next request, in ms."""
    import httpx

    slowest = 0.0
    for name, langs in names.items():
        with httpx.Client(base_url=url, timeout=120) as client:
            token = client.post("/api/login", json={"name": name, "secret": SECRET}).json()["token"]
            client.headers["Authorization"] = f"Bearer {token}"
            seen: set[str] = set()
            for _ in range(cap):
                began = time.perf_counter()
                pair = client.get("/api/next").json()["pair"]
                slowest = max(slowest, 1000 * (time.perf_counter() - began))
                if pair is None:
                    break
                tally.given.append((name, pair["id"]))
                seen.add(pair["doc_lang"])
                answer = client.post("/api/judgments", json={"pair_id": pair["id"], "grade": 0, "status": "judged",
                                                             "seconds": 1.0})
                tally.acked.append(int(answer.json()["judgment"]))
                if seen >= langs:
                    break
    return slowest


def work(target: str, directory: Path, url: str | None, names: list[str], judgments: int, think_ms: float) -> tuple:
    """Runs the assessors until ``judgments`` loops are done; (Tally, seconds)."""
    tally = Tally(judgments)
    if target == "store-processes":
        context = multiprocessing.get_context("spawn")
        count, start, out = context.Value("i", 0), context.Barrier(len(names) + 1), context.Queue()
        workers = [context.Process(target=_process_assessor, args=(str(directory), n, think_ms, count, judgments,
                                                                   start, out)) for n in names]
        for w in workers:
            w.start()
        start.wait()
        began = time.perf_counter()
        for _ in workers:
            tally.merge(out.get())
        seconds = time.perf_counter() - began
        for w in workers:
            w.join()
        return tally, seconds
    start = threading.Barrier(len(names) + 1)
    project = None
    if target == "store-threads":
        from babelir.judge.project import Project

        project = Project.open(directory)
        threads = [threading.Thread(target=store_assessor, args=(project, n, think_ms, tally, start)) for n in names]
    else:
        threads = [threading.Thread(target=http_assessor, args=(url, n, think_ms, tally, start)) for n in names]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    if project is not None:
        project.close()
    return tally, seconds


def check(directory: Path, tally: Tally, needed: dict[int, int]) -> list[str]:
    """Problems: a pair given to more people than it needs, or twice to one; committed ≠ acknowledged."""
    import sqlite3

    problems = []
    holders: dict[int, list[str]] = {}
    for name, pair_id in tally.given:
        holders.setdefault(pair_id, []).append(name)
    for pair_id, names in holders.items():
        if len(set(names)) != len(names):
            problems.append(f"pair {pair_id} given twice to one assessor: {names}")
        if len(names) > needed[pair_id]:
            problems.append(f"pair {pair_id} (needed={needed[pair_id]}) given to {names}")
    db = sqlite3.connect(str(directory / "project.sqlite"))
    committed = {r[0] for r in db.execute("SELECT id FROM judgments WHERE undone = 0")}
    db.close()
    if committed != set(tally.acked):
        problems.append(f"{len(committed)} judgments committed, {len(tally.acked)} acknowledged "
                        f"({len(committed - set(tally.acked))} not acknowledged, "
                        f"{len(set(tally.acked) - committed)} acknowledged and missing)")
    return problems


def summary(label: str, tally: Tally, seconds: float) -> list[str]:
    def pct(values: list[float]) -> list[str]:
        if not values:
            return ["-"] * 4
        return [f"{np.percentile(values, q):.1f}" for q in (50, 95, 99)] + [f"{max(values):.1f}"]

    return [label, str(len(tally.acked)), str(len(tally.errors)), *pct(tally.next_ms), *pct(tally.judge_ms),
            f"{len(tally.acked) / seconds:.0f}"]


# -- export ---------------------------------------------------------------------------------------
def fill_judgments(directory: Path, total: int, seed: int = 11) -> int:
    """Add people's judgments until the project holds ``total`` (pairs in judging order, each by as
    many assessors of its language as it needs; 3 % skips); returns how many it holds."""
    import sqlite3

    rng = random.Random(seed)
    db = sqlite3.connect(str(directory / "project.sqlite"), isolation_level=None)
    have = db.execute("SELECT count(*) FROM judgments WHERE undone = 0").fetchone()[0]
    judged = {(r[0], r[1]) for r in db.execute("SELECT pair_id, assessor FROM judgments WHERE undone = 0")}
    people = [(name, None if langs == "*" else set(langs.split(","))) for name, langs in
              db.execute("SELECT name, langs FROM assessors WHERE kind = 'person'")]
    rows, at = [], time.time() - 86400
    for pair_id, lang, needed in db.execute("SELECT id, lang, needed FROM pairs WHERE needed > 0 ORDER BY position"):
        if have + len(rows) >= total:
            break
        readers = [name for name, langs in people if langs is None or lang in langs]
        rng.shuffle(readers)
        for name in readers[:needed]:
            if (pair_id, name) in judged or have + len(rows) >= total:
                continue
            at += 0.5
            skip = rng.random() < 0.03
            rows.append((pair_id, name, None if skip else _grade(rng), "skip" if skip else "judged", at,
                         rng.uniform(5, 60)))
    db.execute("BEGIN")
    db.executemany("INSERT INTO judgments(pair_id, assessor, grade, status, at, seconds) VALUES (?,?,?,?,?,?)", rows)
    db.execute("UPDATE pairs SET claimed = (SELECT count(*) FROM judgments j WHERE j.pair_id = pairs.id AND "
               "j.undone = 0 AND j.status = 'judged') + (SELECT count(*) FROM leases l WHERE l.pair_id = pairs.id)")
    db.execute("COMMIT")
    held = db.execute("SELECT count(*) FROM judgments WHERE undone = 0").fetchone()[0]
    db.close()
    return held


def time_export(directory: Path, tmp: Path) -> list[tuple[str, float, str]]:
    """``babelir judge export`` and ``babelir eval`` as whole processes: [(what, seconds, output)]."""
    import sqlite3

    qrels, run = tmp / "qrels.trec", tmp / "synthetic.run"
    db = sqlite3.connect(str(directory / "project.sqlite"))
    with run.open("w") as out:  # a run ranking each query's 10 pooled documents in a shuffled order
        rng = random.Random(3)
        for qid, docno, position in db.execute("SELECT qid, docno, position FROM pairs ORDER BY position"):
            out.write(f"{qid} Q0 {docno} {position % 10 + 1} {rng.random():.4f} synthetic\n")
    db.close()
    timings = []
    for what, command in (("judge export", ["judge", "export", str(directory), "-o", str(qrels)]),
                          ("eval --by-lang", ["eval", str(qrels), str(run), "--by-lang"])):
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "babelir", *command], capture_output=True, text=True)
        seconds = time.perf_counter() - began
        if done.returncode != 0:
            raise SystemExit(f"babelir {' '.join(command)} failed: {done.stderr[-1000:]}")
        timings.append((what, seconds, done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""))
    return timings


# -- the server -----------------------------------------------------------------------------------
def start_server(directory: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = log_path.open("w")  # a file, not a pipe: a full pipe would stall the server
    server = subprocess.Popen([sys.executable, "-m", "babelir", "judge", "serve", str(directory),
                               "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"babelir judge serve exited: {log_path.read_text()[-2000:]}")
        try:
            httpx.get(f"{url}/api/progress", timeout=2)  # any answer (401 included) means it is up
            return server, url
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("babelir judge serve did not answer within 120 s")


def main(argv=None) -> None:
    from babelir.evaluate.table import format_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--assessors", type=int, default=10)
    parser.add_argument("--judgments", type=int, default=2000, help="judgments per think time, all assessors")
    parser.add_argument("--think-ms", type=float, action="append", help="think time between next and judge "
                        "(repeatable; default 0 and 50)")
    parser.add_argument("--export-judgments", type=int, default=100_000)
    parser.add_argument("--target", choices=("http", "store-threads", "store-processes"), default="http")
    parser.add_argument("--quick", action="store_true", help="10,000 pairs, 200 judgments, 10,000 exported")
    parser.add_argument("--keep", type=Path, default=None, help="build the project here and keep it")
    args = parser.parse_args(argv)
    if args.quick:
        args.pairs, args.judgments, args.export_judgments = 10_000, 200, 10_000
    think = args.think_ms or [0.0, 50.0]
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        directory = args.keep or tmp / "project"
        built = build_project(directory, args.pairs, args.assessors)
        size = (directory / "project.sqlite").stat().st_size / 2**20
        print(f"project: {args.pairs:,} pairs, {args.pairs // 10:,} queries in {len(LANGS)} languages, "
              f"{args.assessors} assessors; built in {built['seconds']:.1f} s ({size:.0f} MiB)", flush=True)
        server, url = (start_server(directory, tmp / "serve.log") if args.target == "http" else (None, None))
        rows, problems, worst = [], [], 0.0
        seen = Tally(0)  # every run's pairs handed out and judgments acknowledged, for the checks
        try:
            if server is not None:
                began = time.perf_counter()
                slowest = warm_up(url, built["names"], seen)
                print(f"warm-up (one assessor at a time until each was shown each of its languages): "
                      f"{len(seen.acked)} judgments, {time.perf_counter() - began:.1f} s, slowest next "
                      f"{slowest:.0f} ms", flush=True)
            runs = [(f"1 assessor alone, think {think[0]:.0f} ms", list(built["names"])[2:3], think[0])]
            runs += [(f"{args.assessors} at once, think {t:.0f} ms", list(built["names"]), t) for t in think]
            for label, names, think_ms in runs:  # the lone assessor: the service time without queueing
                count = args.judgments if len(names) > 1 else max(1, args.judgments // 10)
                tally, seconds = work(args.target, directory, url, names, count, think_ms)
                rows.append(summary(label, tally, seconds))
                print(" ".join(rows[-1]), flush=True)
                seen.merge({key: getattr(tally, key) for key in ("next_ms", "judge_ms", "errors", "given", "acked")})
                problems += [f"{label}: {p}" for p in check(directory, seen, built["needed"])]
                problems += [f"{label}: {e}" for e in tally.errors[:5]]
                if tally.next_ms and len(names) > 1:
                    worst = max(worst, float(np.percentile(tally.next_ms, 99)))
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
                print("server log (tail):", (tmp / "serve.log").read_text()[-800:] or "(empty)")
        print(f"\n{args.target}: {args.pairs:,} pairs; latencies in ms; {os.cpu_count()} CPUs, server and clients "
              f"on the same machine; load average {os.getloadavg()[0]:.1f} at the end")
        print(format_table(["assessors, think time", "judged", "errors", "next p50", "p95", "p99", "max",
                            "judge p50", "p95", "p99", "max", "judgments/s"], rows))
        print("checks:", "OK (no pair over-assigned, committed = acknowledged)" if not problems else "")
        for problem in problems[:20]:
            print("  ", problem)
        held = fill_judgments(directory, args.export_judgments)
        timings = time_export(directory, tmp)
        for what, seconds, first in timings:
            print(f"{what}: {seconds:.2f} s over {held:,} judgments ({first})")
        export_s = timings[0][1]
        print(f"\nagainst the targets: next p99 {worst:.1f} ms / {NEXT_TARGET_MS:.0f} ms = "
              f"{worst / NEXT_TARGET_MS:.2f}; export {export_s:.2f} s / {EXPORT_TARGET_S:.0f} s = "
              f"{export_s / EXPORT_TARGET_S:.2f}  (below 1 meets the target)")
        if problems:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
