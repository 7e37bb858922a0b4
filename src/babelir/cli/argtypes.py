"""Argument types and checks shared by every command, so that one kind of option is checked one way.

Each type is an ``argparse`` ``type=`` function: a bad value becomes the one-line usage error
``babelir CMD: error: argument --k: …`` (exit 2).

Outputs (``-o``), the same rule for every command:

- a file output (a run, a report) replaces an existing *file* (a symlink's target, the link kept);
  an existing *directory*, FIFO, device or socket is refused;
- a symlink that points to nothing yet (the output or a parent) is followed, for files and
  directories alike: its target is created; a symlink loop is refused;
- a directory output refuses an existing *file* (``babelir index`` extends an existing index and
  refuses any other non-empty directory; ``babelir model`` replaces its directory);
- missing parent directories are created.

:func:`check_argv` runs before parsing: every argument must be valid UTF-8 (babelir writes text as
UTF-8 into manifests, run files and JSON), and a ``--query`` (or ``--weights``) value that begins
with ``-`` is kept as the value instead of being read as an option.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Collection
from pathlib import Path


def positive_int(text: str) -> int:
    """A whole number of 1 or more (``--k``, ``--depth``, ``--batch-size``, …)."""
    return _within(text, int, "a whole number", lambda v: v >= 1, "1 or more")


def non_negative_int(text: str) -> int:
    """A whole number of 0 or more (``--seed``, ``--freeze-layers``)."""
    return _within(text, int, "a whole number", lambda v: v >= 0, "0 or more")


def positive_float(text: str) -> float:
    """A finite number above 0 (``--lr``, ``--epochs``, ``--step``)."""
    return _within(text, float, "a number", lambda v: v > 0, "above 0")


def non_negative_float(text: str) -> float:
    """A finite number of 0 or more (``--k1``, ``--wait``, weights)."""
    return _within(text, float, "a number", lambda v: v >= 0, "0 or more")


MAX_WEIGHT = 1000.0


def weight(text: str) -> float:
    """A weight from 0 to :data:`MAX_WEIGHT` (``--group-weight``)."""
    value = non_negative_float(text)
    if value > MAX_WEIGHT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_WEIGHT:g}, got {text!r}")
    return value


def weights(text: str) -> list[float]:
    """Comma-separated weights, each from 0 to :data:`MAX_WEIGHT` (``--weights 0.2,0.8``)."""
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes numbers separated by commas; got {text!r}") from None
        if not math.isfinite(value) or value < 0:
            raise argparse.ArgumentTypeError(f"weights must be 0 or more (and finite); got {text!r}")
        if value > MAX_WEIGHT:
            raise argparse.ArgumentTypeError(f"weights must be at most {MAX_WEIGHT:g}; got {text!r}")
        values.append(value)
    return values


def _within(text: str, kind, what: str, inside, bounds: str):
    """``text`` read as ``kind``; an argparse error unless ``inside(value)``."""
    value = _number(text, kind, what)
    if not inside(value):
        raise argparse.ArgumentTypeError(f"must be {bounds}, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A number from 0 to 1 (``--b``)."""
    return _within(text, float, "a number", lambda v: 0 <= v <= 1, "between 0 and 1")


def open_fraction(text: str) -> float:
    """A number strictly between 0 and 1 (``--dev-fraction``)."""
    return _within(text, float, "a number", lambda v: 0 < v < 1, "between 0 and 1 (exclusive)")


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free port)."""
    return _within(text, int, "a port number", lambda v: 0 <= v <= 65535, "a port from 0 to 65535")


def language(text: str) -> str:
    """A language code (``th``, ``tha``, ``zh-Hans``) or ``auto``; checked, returned as given."""
    from babelir.errors import BabelirError
    from babelir.types import normalize_lang

    if not text.strip():
        raise argparse.ArgumentTypeError("is blank: give a language code (th, tha) or 'auto'")
    if text != "auto":
        try:
            normalize_lang(text)
        except BabelirError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def output_file(text: str) -> str:
    """A file to write: replaced if it exists; an existing directory (or a path ending in ``/``) is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is blank: give a file name")
    _check_loops(text)
    if os.path.isdir(text) or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text}: is a directory; give a file name")
    if os.path.exists(text) and not os.path.isfile(text):  # a FIFO, a device, a socket (links followed)
        raise argparse.ArgumentTypeError(f"{text}: not a regular file; give a file name")
    _check_parents(text)
    return text


def _check_loops(text: str) -> None:
    """Refuse a symlink loop (``-o LA`` where ``LA`` → ``LB`` → ``LA``), naming the link."""
    from babelir.errors import BabelirError
    from babelir.io.atomic import check_no_loop

    try:
        check_no_loop(text)
    except BabelirError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check_parents(text: str) -> None:
    """Refuse a path below an existing file (``-o existing.run/sub.run``), naming that file."""
    from babelir.io.atomic import file_above

    above = file_above(text)
    if above is not None:
        raise argparse.ArgumentTypeError(f"{above}: not a directory")


def output_dir(text: str) -> str:
    """A directory to write: an existing file there is refused. A symlink that points to nothing
    yet (the path or a parent) is followed: the path it points to is returned, to be created."""
    from babelir.io.atomic import through_links

    if not text.strip():
        raise argparse.ArgumentTypeError("is blank: give a directory")
    _check_loops(text)
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text}: exists and is not a directory")
    _check_parents(text)
    followed = through_links(text)
    return text if followed == Path(text) else str(followed)


def _number(text: str, kind, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


DASH_VALUES = ("--query", "--weights")  # options whose value may begin with '-' (a query like "-adapter";
# "--weights -1,1" then reaches the type check instead of "expected one argument")


# babelir search's option strings (its parser's; tests/unit/test_cli_args.py checks that they agree):
# after --query or --weights one of these is read as an option, any other argument that begins with '-'
# as the value. Listed here, below search_cmd, so that argtypes imports no command module.
SEARCH_OPTIONS = frozenset({
    "-h", "--help", "--topics", "--query", "-o", "--output", "--k", "--lang", "--pipeline", "--mode", "--hybrid-of",
    "--fusion", "--lexical-everywhere", "--weights", "--no-debias", "--no-standardise", "--doc-langs", "--exact",
    "--group-weight", "--k1", "--b", "--abstain", "--max-hallucination", "--backend", "-q", "--quiet",
})


def check_argv(argv: list[str], option_names: Collection[str] = SEARCH_OPTIONS) -> list[str]:
    """The arguments, checked and prepared for parsing.

    Raises ``ValueError`` naming the first argument that is not valid UTF-8 (Python hands such
    bytes over as lone surrogates). ``--query -x`` becomes ``--query=-x`` (argparse would read
    ``-x`` as an option) unless ``-x`` (or ``-x=…``) is itself one of ``option_names`` (default:
    babelir search's, :data:`SEARCH_OPTIONS`)."""
    for position, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raw = os.fsencode(arg)
            raise ValueError(f"argument {position} is not valid UTF-8: {raw!r} (a character cut "
                             f"in the middle, or another encoding?)") from None
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in DASH_VALUES and i + 1 < len(argv) and argv[i + 1].startswith("-") and not _looks_like_option(argv[i + 1], option_names):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _looks_like_option(arg: str, option_names: Collection[str]) -> bool:
    """Whether ``arg`` is one of ``option_names`` (``--k``, ``-o``, ``--k=5``)."""
    return arg.split("=", 1)[0] in option_names


def check_listen(host: str, port: int) -> None:
    """Refuse, before a server says it is serving, an address it cannot listen on: a port in use, a
    host that is not this machine's (uvicorn would fail after start-up with exit status 3)."""
    import socket

    from babelir.errors import BabelirError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BabelirError(f"--host {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise BabelirError(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                               + (" (choose another with --port)" if exc.errno == 98 else "")) from None
