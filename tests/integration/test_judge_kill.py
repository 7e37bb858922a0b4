"""``babelir judge serve`` killed (SIGKILL) at random moments while an assessor judges over HTTP:
every judgment the server acknowledged is in the project after a restart, the session still
works, the pair the assessor held comes back, and judging goes on."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from babelir.judge.project import Project  # noqa: E402

KILLS = 3
SECRET = "secret-kill-1"


def _project(root: Path) -> Path:
    """3,000 single-judged pairs (20 queries × 150 documents, one run): more than three rounds of
    judging at full speed (about 300 a second) until the kill can use."""
    from babelir.index.core import Index
    from babelir.judge.pool import pool
    from babelir.run import Run
    from babelir.types import Doc

    with Index.create(root / "index") as ix:
        ix.add([Doc(f"d{i:04d}", f"document {i} about cats and dogs number {i % 7}", lang="en") for i in range(3000)])
    (root / "topics.tsv").write_text("".join(f"q{n}\tcats number {n}\ten\n" for n in range(20)), encoding="utf-8")
    Run({f"q{n}": {f"d{i:04d}": float(-i) for i in range(n * 150, n * 150 + 150)} for n in range(20)}
        ).to_trec(root / "a.run")
    pool(root / "project", [root / "a.run"], depth=150, topics=root / "topics.tsv", index=root / "index", overlap=0.0)
    with Project.open(root / "project") as project:
        project.add_assessor("ana", None, SECRET)
    return root / "project"


def _start(project: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    log = project.parent / "serve.log"
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "babelir", "judge", "serve", str(project), "--port",
                                 str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=10)
    raise AssertionError("the server did not start: " + log.read_text(errors="replace"))


def _sigkill(proc: subprocess.Popen) -> None:
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # the test ended (and killed it) first
        pass


def test_sigkill_loses_no_acknowledged_judgment(tmp_path):
    started = time.time()
    project = _project(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    rng = random.Random(7)
    acknowledged: dict[int, tuple[int, int]] = {}  # judgment id -> (pair id, grade)
    proc = _start(project, port)
    before_kill = None
    clients: list[httpx.Client] = []
    try:
        login = httpx.post(url + "/api/login", json={"name": "ana", "secret": SECRET}, timeout=10)
        assert login.status_code == 200
        auth = {"Authorization": "Bearer " + login.json()["token"]}  # the session outlives the restarts
        for kill in range(KILLS + 1):
            client = httpx.Client(base_url=url, headers=auth, timeout=10)
            clients.append(client)  # closed at the end whatever happens (an open socket fails a later test)
            held = None  # the pair the last acknowledged /api/next showed, not yet acknowledged as judged
            if kill:  # after a restart: the session holds, and the held pair (unless judged) comes back
                with Project.open(project) as p:
                    live = {row[0]: row for row in p.db.execute(
                        "SELECT id, pair_id, grade FROM judgments WHERE undone = 0 AND assessor = 'ana'")}
                for judgment, (pair_id, grade) in acknowledged.items():
                    assert judgment in live and live[judgment][1:] == (pair_id, grade), judgment
                judged = {row[1] for row in live.values()}
                pair = client.get("/api/next").json()["pair"]
                if before_kill is not None and before_kill not in judged:
                    assert pair["id"] == before_kill, "the leased pair did not come back after the restart"
            if kill == KILLS:
                break
            killer = threading.Timer(rng.uniform(0.2, 1.0), _sigkill, (proc,))
            count = 0
            try:
                while True:
                    pair = client.get("/api/next").json()["pair"]
                    assert pair is not None, "the pairs ran out"
                    held = pair["id"]
                    grade = rng.choice((0, 1, 2, 3))
                    r = client.post("/api/judgments", json={"pair_id": held, "grade": grade, "seconds": 0.5})
                    assert r.status_code == 200, r.text
                    acknowledged[r.json()["judgment"]] = (held, grade)
                    count += 1
                    if count == 1:
                        killer.start()  # at a random moment once judging runs
            except httpx.TransportError:  # killed mid-request
                pass
            client.close()
            killer.join()
            proc.wait(timeout=10)
            assert proc.returncode == -signal.SIGKILL and count > 0
            before_kill = held
            proc = _start(project, port)
        r = client.post("/api/judgments", json={"pair_id": pair["id"], "grade": 1})
        assert r.status_code == 200  # judging resumes
        client.close()
    finally:
        for client in clients:
            client.close()
        proc.kill()
        proc.wait(timeout=10)
    with Project.open(project) as p:
        assert len(p.live_judgments()) >= len(acknowledged) + 1
    assert len(acknowledged) >= KILLS
    assert time.time() - started < 60
