"""Load on ``babelir serve``: 50 concurrent clients over loopback against the quickstart index.

    OMP_NUM_THREADS=2 python -m benchmarks.serve_load [--clients 50] [--requests 1000] [--budget 180]

Runs ``babelir quickstart`` (which builds the demo index: BM25 and dense vectors), starts
``babelir serve --index demo=…`` in its own process, then, per mode the index supports, sends ``--requests`` search
requests (the demo's 72 queries in turn, k = 10) from ``--clients`` concurrent clients (asyncio +
httpx), each mode bounded by ``--budget`` seconds. Prints throughput, p50/p95/p99 latency and the
errors (any non-200 answer or transport failure) per mode. Before measuring, every query is sent
once per mode, one at a time (the first requests load language models, dictionaries and the
encoder; that warm-up time is printed too).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

async def load(url: str, mode: str, queries: list[str], clients: int, requests: int, budget: float) -> dict:
    import httpx

    latencies, errors, sent = [], 0, 0
    lock = asyncio.Lock()

    async def client(session: httpx.AsyncClient) -> None:
        nonlocal errors, sent
        while True:
            async with lock:
                if sent >= requests:
                    return
                number = sent
                sent += 1
            started = time.perf_counter()
            try:
                response = await session.get(f"{url}/v1/search", params={"index": "demo", "mode": mode, "k": 10,
                                                                        "q": queries[number % len(queries)]})
                ok = response.status_code == 200 and "results" in response.json()
            except httpx.HTTPError:
                ok = False
            latencies.append(1000 * (time.perf_counter() - started))
            errors += not ok

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as session:
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(client(session) for _ in range(clients))), timeout=budget)
        elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "errors": errors, "seconds": elapsed,
            "p50": float(np.percentile(latencies, 50)), "p95": float(np.percentile(latencies, 95)),
            "p99": float(np.percentile(latencies, 99))}


def main(argv=None) -> None:
    from babelir.evaluate.table import format_table
    from babelir.io.demo import load_demo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000, help="requests per mode")
    parser.add_argument("--budget", type=float, default=180, help="seconds allowed per mode")
    args = parser.parse_args(argv)
    queries = [q.text for q in load_demo().queries]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "quickstart"
        subprocess.run([sys.executable, "-m", "babelir.cli", "quickstart", "-o", str(out), "-q"], check=True,
                       capture_output=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        log = (Path(tmp) / "serve.log").open("w")  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen([sys.executable, "-m", "babelir.cli", "serve", "--index", f"demo={out / 'index'}",
                                   "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(url, server)
            import httpx

            (described,) = httpx.get(f"{url}/v1/indexes").json()["indexes"]
            started = time.perf_counter()  # warm-up: every query once per mode, one at a time (loads
            for mode in described["modes"]:  # the language models, dictionaries and the encoder)
                for query in queries:
                    httpx.get(f"{url}/v1/search", params={"index": "demo", "mode": mode, "q": query}, timeout=60)
            print(f"warm-up: {len(queries) * len(described['modes'])} requests, one at a time, "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            rows = []
            for mode in described["modes"]:
                result = asyncio.run(load(url, mode, queries, args.clients, args.requests, args.budget))
                rows.append([mode, str(result["requests"]), str(result["errors"]),
                             f"{result['requests'] / result['seconds']:.0f}", f"{result['p50']:.1f}",
                             f"{result['p95']:.1f}", f"{result['p99']:.1f}"])
                print(" ".join(rows[-1]), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
            print("server log (tail):", (Path(tmp) / "serve.log").read_text()[-1500:] or "(empty)")
    print(f"{args.clients} concurrent clients, loopback, the quickstart index (240 passages, 12 languages)")
    print(format_table(["mode", "requests", "errors", "requests/s", "p50 ms", "p95 ms", "p99 ms"], rows))


def _wait_for(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
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
