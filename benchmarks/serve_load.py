"""Load on ``babelir serve``: concurrent clients over loopback, per mode, then mixed traffic with
highlighting over 100k-character documents.

    OMP_NUM_THREADS=2 python -m benchmarks.serve_load [--clients 50] [--requests 2000] [--budget 300]
        [--long-docs 100] [--long-chars 100000] [--mixed-only]
    OMP_NUM_THREADS=2 python -m benchmarks.serve_load --clients 10 --requests 200 --long-docs 20  # quick check

Runs ``babelir quickstart`` (which builds the demo index: BM25, dense and sparse vectors) and builds a
second index, ``long``: the demo's 240 passages and ``--long-docs`` documents of ``--long-chars``
characters each (BM25 only: the encoder reads a passage whole, 40 s for 100k characters). A long
document is made of one language's passages, shuffled and repeated, with one topic's passage left
out but for a single copy at a random place, so that a query on that topic finds it and its
highlight lies anywhere in 100k characters. Then starts ``babelir serve --index demo=… --index
long=…`` in its own process and sends, from ``--clients`` concurrent clients (asyncio + httpx),
each phase bounded by ``--budget`` seconds:

1. per mode the demo index supports, ``--requests`` searches (the demo's 72 queries in turn, k = 10);
2. mixed traffic: ``--requests`` searches, in turn 5 of bm25 k=10 and 1 of bm25 k=100 on ``long``,
   2 of dense k=10 and 2 of hybrid k=10 on ``demo`` (every answer carries snippets and highlights).

Prints throughput, p50/p95/p99 latency and the errors (any non-200 answer or transport failure) per
mode and per kind of the mixed traffic. Before measuring, every query is sent once per mode and
index, one at a time (the first requests load language models, dictionaries and the encoder; that
warm-up time is printed too).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MIXED = ([("long", "bm25", 10)] * 5 + [("long", "bm25", 100)]  # (index, mode, k), in turn
         + [("demo", "dense", 10)] * 2 + [("demo", "hybrid", 10)] * 2)


async def load(url: str, requests: list[dict], clients: int, budget: float) -> dict[str, dict]:
    """Sends ``requests`` (search parameters, each with a ``kind`` to report it under) from
    ``clients`` concurrent clients; latency percentiles and errors per kind, and ``all``."""
    import httpx

    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    sent = 0

    async def client(session: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < len(requests):
            params = dict(requests[sent])
            sent += 1
            kind = params.pop("kind")
            started = time.perf_counter()
            try:
                response = await session.get(f"{url}/v1/search", params=params)
                ok = response.status_code == 200 and "results" in response.json()
            except httpx.HTTPError:
                ok = False
            latencies.setdefault(kind, []).append(1000 * (time.perf_counter() - started))
            errors[kind] = errors.get(kind, 0) + (not ok)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as session:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(*(client(session) for _ in range(clients))), timeout=budget)
        except TimeoutError:
            print(f"the budget of {budget:.0f} s ran out after {sum(map(len, latencies.values()))} requests")
        elapsed = time.perf_counter() - started
    latencies["all"] = [ms for values in latencies.values() for ms in values]
    errors["all"] = sum(errors.values())
    return {kind: {"requests": len(values), "errors": errors[kind], "per_second": len(values) / elapsed,
                   **{f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)}}
            for kind, values in latencies.items()}


def long_documents(count: int, chars: int, seed: int = 18) -> list:
    """``count`` documents of ``chars`` characters built from the demo's passages (see the module's doc)."""
    from babelir.io.demo import load_demo
    from babelir.types import Doc

    rng = random.Random(seed)
    by_lang: dict[str, list] = {}
    for doc in load_demo().docs:
        by_lang.setdefault(doc.lang, []).append(doc)
    langs = sorted(by_lang)
    docs = []
    for number in range(count):
        lang = langs[number % len(langs)]
        passages = by_lang[lang]
        kept = passages[(number // len(langs)) % len(passages)]
        filler = [p.text for p in passages if p.id != kept.id]
        parts, size = [], 0
        while size < chars:
            parts.append(rng.choice(filler))
            size += len(parts[-1]) + 2
        parts.insert(rng.randrange(len(parts) + 1), kept.text)
        docs.append(Doc(f"long-{number:03d}-{kept.id}", "\n\n".join(parts)[:chars], lang=lang))
    return docs


def build_long_index(directory: Path, count: int, chars: int) -> float:
    """The ``long`` index (demo passages + long documents, BM25); returns the seconds it took."""
    from babelir.index.core import Index
    from babelir.io.demo import load_demo

    started = time.perf_counter()
    with Index.create(directory) as index:
        index.add(load_demo().docs + long_documents(count, chars))
    return time.perf_counter() - started


def main(argv=None) -> None:
    from babelir.evaluate.table import format_table
    from babelir.io.demo import load_demo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="requests per mode, and of mixed traffic")
    parser.add_argument("--budget", type=float, default=300, help="seconds allowed per phase")
    parser.add_argument("--long-docs", type=int, default=100, help="long documents in the 'long' index")
    parser.add_argument("--long-chars", type=int, default=100_000, help="characters per long document")
    parser.add_argument("--mixed-only", action="store_true", help="only the mixed traffic over long documents")
    args = parser.parse_args(argv)
    queries = [q.text for q in load_demo().queries]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "quickstart"
        subprocess.run([sys.executable, "-m", "babelir.cli", "quickstart", "-o", str(out), "-q"], check=True,
                       capture_output=True)
        seconds = build_long_index(Path(tmp) / "long", args.long_docs, args.long_chars)
        print(f"index 'long': 240 passages + {args.long_docs} documents of {args.long_chars:,} characters, "
              f"built in {seconds:.1f} s", flush=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        log = (Path(tmp) / "serve.log").open("w")  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen([sys.executable, "-m", "babelir.cli", "serve", "--index", f"demo={out / 'index'}",
                                   "--index", f"long={Path(tmp) / 'long'}", "--port", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(url, server)
            rows = run_phases(url, queries, args)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
            print("server log (tail):", (Path(tmp) / "serve.log").read_text()[-1500:] or "(empty)")
    print(f"{args.clients} concurrent clients, loopback; 'demo': the quickstart index (240 passages, 12 languages); "
          f"'long': the same and {args.long_docs} documents of {args.long_chars:,} characters")
    print(format_table(["phase", "traffic", "requests", "errors", "requests/s", "p50 ms", "p95 ms", "p99 ms"], rows))


def run_phases(url: str, queries: list[str], args) -> list[list[str]]:
    """Warm-up, then each phase; the table's rows."""
    import httpx

    indexes = {d["name"]: d for d in httpx.get(f"{url}/v1/indexes").json()["indexes"]}
    started = time.perf_counter()  # warm-up: every query once per mode and index, one at a time
    warm = 0
    for name, described in indexes.items():
        for mode in described["modes"]:
            for query in queries:
                httpx.get(f"{url}/v1/search", params={"index": name, "mode": mode, "q": query}, timeout=120)
                warm += 1
    print(f"warm-up: {warm} requests, one at a time, {time.perf_counter() - started:.1f} s", flush=True)
    rows = []

    def report(index: str, results: dict[str, dict]) -> None:
        for kind, r in results.items():
            rows.append([index, kind, str(r["requests"]), str(r["errors"]), f"{r['per_second']:.0f}",
                         f"{r['p50']:.1f}", f"{r['p95']:.1f}", f"{r['p99']:.1f}"])
            print(" ".join(rows[-1]), flush=True)

    if not args.mixed_only:
        for mode in indexes["demo"]["modes"]:
            requests = [{"kind": mode, "index": "demo", "mode": mode, "k": 10, "q": queries[n % len(queries)]}
                        for n in range(args.requests)]
            report("per mode", {f"demo {mode} k=10": asyncio.run(load(url, requests, args.clients, args.budget))[mode]})
    requests = []
    for n in range(args.requests):
        index, mode, k = MIXED[n % len(MIXED)]
        requests.append({"kind": f"{index} {mode} k={k}", "index": index, "mode": mode, "k": k,
                         "q": queries[(n * 7) % len(queries)]})
    report("mixed", asyncio.run(load(url, requests, args.clients, args.budget)))
    return rows


def _wait_for(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit("babelir serve exited (see its log)")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("babelir serve did not answer /health")


if __name__ == "__main__":
    main()
