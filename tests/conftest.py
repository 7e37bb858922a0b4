"""Shared fixtures. XQuAD-R is read from ../shared/data (never copied into the repo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_XQUADR = REPO.parent / "shared" / "data" / "xquad-r"


def pytest_sessionfinish(session, exitstatus):
    """A run whose tests are over but whose process does not exit (a thread, an executor or a
    worker process left waiting) prints every thread's stack and exits with 1 after 5 minutes,
    rather than hang CI without a word (seen once, not reproduced)."""
    import faulthandler

    faulthandler.dump_traceback_later(300, exit=True)


@pytest.fixture(scope="session", autouse=True)
def private_encoding_cache(tmp_path_factory):
    """Encodings made by tests go to a temporary cache, never to the user's ~/.cache/babelir."""
    previous = os.environ.get("BABELIR_CACHE_DIR")
    os.environ["BABELIR_CACHE_DIR"] = str(tmp_path_factory.mktemp("encodings"))
    yield
    if previous is None:
        os.environ.pop("BABELIR_CACHE_DIR", None)
    else:
        os.environ["BABELIR_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def xquadr_dir() -> Path:
    """The XQuAD-R source directory; skips (or fails under BABELIR_REQUIRE_SHARED=1) when absent."""
    if not (SHARED_XQUADR / "en.json").is_file():
        message = f"XQuAD-R not found at {SHARED_XQUADR} (../shared/data beside the repo)"
        if os.environ.get("BABELIR_REQUIRE_SHARED") == "1":
            pytest.fail(message + " and BABELIR_REQUIRE_SHARED=1")
        pytest.skip(message)
    return SHARED_XQUADR


def run_cli(*args: str, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """Run ``python -m babelir.cli ARGS`` in a subprocess; returns the completed process."""
    result = subprocess.run([sys.executable, "-m", "babelir.cli", *map(str, args)], capture_output=True,
                            text=True, cwd=cwd, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"babelir {' '.join(map(str, args))} exited {result.returncode}:\n{result.stderr}")
    return result


def interruptible() -> None:
    """Popen's ``preexec_fn`` for a child a test sends Ctrl-C to: SIGINT's default, whatever the test
    run inherited (a shell starts a background job with SIGINT ignored, Python then keeps it
    ignored, and the Ctrl-C would be lost)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def write(path: Path, text: str | bytes) -> Path:
    """Write a small fixture file (bytes as they are, text as UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def cli_in_process(capsys, *args) -> tuple[int, str, str]:
    """Run ``babelir ARGS`` in this process: (exit status, stdout, stderr)."""
    from babelir.cli import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class served_in_thread:
    """``with served_in_thread(app) as url:`` an ASGI app under uvicorn on a free loopback port, in a
    daemon thread, stopped on exit (``url`` has no trailing slash)."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))

    def __enter__(self) -> str:
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started and time.time() < deadline:
            time.sleep(0.05)
        assert self.server.started, "the server did not start"
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
