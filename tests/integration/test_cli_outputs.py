"""Outputs and messages from a fresh user's trial: -o on links, FIFOs and sockets; refused commands
leave the directory as it was; a new index that fails on bad input is not left behind; search's
option checks; what Ctrl-C says."""

from __future__ import annotations

import os
import socket

import pytest

from babelir.cli import main
from babelir.errors import BabelirError
from babelir.io.atomic import atomic_write_text
from tests.conftest import write

GOOD = '{"id": "a", "text": "hello world"}\n{"id": "b", "text": "good bye"}\n'


def _cli(capsys, *args) -> tuple[int, str]:
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("ix")
    write(root / "good.jsonl", GOOD)
    assert main(["index", str(root / "good.jsonl"), "-o", str(root / "idx"), "-q"]) == 0
    return root / "idx"


# --- 1: -o follows symlinks and refuses what is not a regular file ---------------------------------

def test_atomic_write_follows_a_symlink_and_keeps_it(tmp_path):
    target = write(tmp_path / "target.run", "old\n")
    (tmp_path / "link.run").symlink_to("target.run")
    atomic_write_text(tmp_path / "link.run", "new\n")
    assert (tmp_path / "link.run").is_symlink() and target.read_text() == "new\n"
    (tmp_path / "dangling.run").symlink_to("sub/made.run")  # a link to a file not there yet
    atomic_write_text(tmp_path / "dangling.run", "x\n")
    assert (tmp_path / "dangling.run").is_symlink() and (tmp_path / "sub" / "made.run").read_text() == "x\n"


def test_atomic_write_refuses_a_fifo_and_a_socket(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "ff.run")
    with pytest.raises(BabelirError, match="ff.run: not a regular file; give a file name"):
        atomic_write_text(tmp_path / "ff.run", "x")
    assert not (tmp_path / "ff.run").is_file()
    sock = socket.socket(socket.AF_UNIX)
    try:
        monkeypatch.chdir(tmp_path)  # a socket path must be short
        sock.bind("s.run")
        (tmp_path / "to-fifo.run").symlink_to("ff.run")  # a link to a FIFO: refused too
        for name in ("s.run", "to-fifo.run"):
            with pytest.raises(BabelirError, match="not a regular file"):
                atomic_write_text(tmp_path / name, "x")
    finally:
        sock.close()


def test_search_o_on_a_symlink_and_a_fifo(index_dir, tmp_path, capsys):
    write(tmp_path / "t.tsv", "q1\thello\n")
    write(tmp_path / "target.run", "")
    (tmp_path / "link.run").symlink_to("target.run")
    rc, _ = _cli(capsys, "search", index_dir, "--topics", tmp_path / "t.tsv", "-o", tmp_path / "link.run", "-q")
    assert rc == 0 and (tmp_path / "link.run").is_symlink() and "q1" in (tmp_path / "target.run").read_text()
    os.mkfifo(tmp_path / "ff.run")
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(index_dir), "--topics", str(tmp_path / "t.tsv"), "-o", str(tmp_path / "ff.run")])
    assert exit_.value.code == 2 and "not a regular file; give a file name" in capsys.readouterr().err
    assert not (tmp_path / "ff.run").is_file()


def _refused(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1
    return err


def test_o_refuses_a_symlink_loop_and_keeps_the_link(index_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "t.tsv", "q1\thello\n")
    write(tmp_path / "corpus.jsonl", GOOD)
    os.symlink("LB", "LA2")
    os.symlink("LA2", "LB")
    os.symlink("selfl", "selfl")
    search = ("search", index_dir, "--topics", "t.tsv", "-o")
    assert "LA2: a symlink loop" in _refused(capsys, *search, "LA2")
    assert "selfl: a symlink loop" in _refused(capsys, *search, "selfl")
    assert "selfl: a symlink loop" in _refused(capsys, *search, "selfl/x.run")  # a loop among the parents
    assert "LA2: a symlink loop" in _refused(capsys, "index", "corpus.jsonl", "-o", "LA2", "-q")
    assert "LB: a symlink loop" in _refused(capsys, "index", "corpus.jsonl", "-o", "LB/sub", "-q")
    assert [os.readlink(n) for n in ("LA2", "LB", "selfl")] == ["LB", "LA2", "selfl"]
    with pytest.raises(BabelirError, match="LA2: a symlink loop"):  # the library refuses it too
        atomic_write_text("LA2", "x")
    assert os.path.islink("LA2")


def test_a_dangling_link_is_followed_by_file_and_directory_outputs(index_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "corpus.jsonl", GOOD)
    write(tmp_path / "t.tsv", "q1\thello\n")
    write(tmp_path / "s.txt", "hello\nworld\n")
    write(tmp_path / "t.txt", "hallo\nwelt\n")
    os.symlink("nowhere", "link")
    rc, _ = _cli(capsys, "index", "corpus.jsonl", "-o", "link", "-q")
    assert rc == 0 and os.readlink("link") == "nowhere" and (tmp_path / "link" / "manifest.json").is_file()
    os.symlink("far/deep", "link2")  # a missing parent of the target is created too
    rc, _ = _cli(capsys, "datasets", "parallel", "s.txt", "t.txt", "-o", "link2",
                 "--source-lang", "en", "--target-lang", "de")
    assert rc == 0 and (tmp_path / "far" / "deep" / "corpus.jsonl").is_file() and os.path.islink("link2")
    os.symlink("gone/a", "link3")  # a dangling link among the parents: the same for a file output
    rc, _ = _cli(capsys, "search", index_dir, "--topics", "t.tsv", "-o", "link3/x.run", "-q")
    assert rc == 0 and (tmp_path / "gone" / "a" / "x.run").is_file()
    rc, _ = _cli(capsys, "index", "corpus.jsonl", "-o", "link3/ix", "-q")
    assert rc == 0 and (tmp_path / "gone" / "a" / "ix" / "manifest.json").is_file()


def test_a_link_into_a_file_names_the_file(index_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "afile", "x\n")
    write(tmp_path / "corpus.jsonl", GOOD)
    write(tmp_path / "t.tsv", "q1\thello\n")
    os.symlink("afile/x", "lnk")
    search = ("search", index_dir, "--topics", "t.tsv", "-o")
    for args in [(*search, "afile/y.run"), (*search, "lnk/y.run"), ("index", "corpus.jsonl", "-o", "lnk/ix"),
                 ("index", "corpus.jsonl", "-o", "lnk")]:
        err = _refused(capsys, *args)
        assert "argument -o/--output: afile: not a directory" in err and str(tmp_path) not in err
    assert (tmp_path / "afile").read_text() == "x\n"


def test_atomic_directory_through_a_symlink(tmp_path):
    from babelir.io.atomic import atomic_directory

    (tmp_path / "real").mkdir()
    write(tmp_path / "real" / "old.txt", "old")
    (tmp_path / "link").symlink_to("real")
    with atomic_directory(tmp_path / "link") as staging:
        write(staging / "new.txt", "new")
    assert (tmp_path / "link").is_symlink() and sorted(p.name for p in (tmp_path / "real").iterdir()) == ["new.txt"]
    (tmp_path / "dangling").symlink_to("made/here")
    with atomic_directory(tmp_path / "dangling") as staging:
        write(staging / "a.txt", "a")
    assert (tmp_path / "made" / "here" / "a.txt").is_file() and (tmp_path / "dangling").is_symlink()


# --- 2: a refused index leaves the directory untouched --------------------------------------------

def test_refused_index_leaves_no_lock(index_dir, tmp_path, capsys):
    write(tmp_path / "good.jsonl", GOOD)
    write(tmp_path / "other" / "notes.txt", "x\n")
    rc, err = _cli(capsys, "index", tmp_path / "good.jsonl", "-o", tmp_path / "other", "-q")
    assert rc == 2 and "not empty and holds no babelir index" in err
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["notes.txt"]
    inner = index_dir / "lexical"  # a part of an index: refused the same way
    before = sorted(p.name for p in inner.iterdir())
    rc, _ = _cli(capsys, "index", tmp_path / "good.jsonl", "-o", inner, "-q")
    assert rc == 2 and sorted(p.name for p in inner.iterdir()) == before


# --- 4: a new index that fails before its first commit is not left behind --------------------------

def test_new_index_failing_on_bad_input_leaves_nothing(tmp_path, capsys):
    write(tmp_path / "trunc.jsonl", '{"id": "a", "text": "hello"}\n{"id": "b", "text": "bye')
    rc, err = _cli(capsys, "index", tmp_path / "trunc.jsonl", "-o", tmp_path / "new" / "t", "-q")
    assert rc == 2 and "trunc.jsonl:2" in err
    assert not (tmp_path / "new").exists()  # the parent it made too
    (tmp_path / "empty").mkdir()  # an empty directory given: left empty
    write(tmp_path / "dup.jsonl", '{"id": "a", "text": "x"}\n{"id": "b"}\n')
    rc, _ = _cli(capsys, "index", tmp_path / "dup.jsonl", "-o", tmp_path / "empty", "-q")
    assert rc == 2 and list((tmp_path / "empty").iterdir()) == []


def test_failing_index_keeps_committed_documents(tmp_path, capsys):
    write(tmp_path / "c.jsonl", '{"id": "a", "text": "hello"}\n{"id": "b", "text": "bye"}\n{"id": "c"')
    rc, err = _cli(capsys, "index", tmp_path / "c.jsonl", "-o", tmp_path / "ix", "-q", "--batch-size", "1")
    assert rc == 2 and (tmp_path / "ix" / "manifest.json").exists()
    assert "c.jsonl:3: malformed JSON" in err and "2 documents before it are committed and kept" in err
    assert "re-run to resume" in err


# --- 3: datasets refuses a directory that is not an earlier output ---------------------------------

def test_datasets_parallel_refuses_a_foreign_directory(index_dir, tmp_path, capsys):
    write(tmp_path / "s.txt", "hello\nworld\n")
    write(tmp_path / "t.txt", "hallo\nwelt\n")
    before = sorted(p.name for p in index_dir.iterdir())
    rc, err = _cli(capsys, "datasets", "parallel", tmp_path / "s.txt", tmp_path / "t.txt", "-o", index_dir,
                   "--source-lang", "en", "--target-lang", "de")
    assert rc == 2 and "holds no babelir collection" in err and sorted(p.name for p in index_dir.iterdir()) == before
    write(tmp_path / "notes" / "a.txt", "x")
    rc, _ = _cli(capsys, "datasets", "parallel", tmp_path / "s.txt", tmp_path / "t.txt", "-o", tmp_path / "notes",
                 "--source-lang", "en", "--target-lang", "de")
    assert rc == 2
    for _ in range(2):  # a new directory, then its own earlier output: written
        rc, _ = _cli(capsys, "datasets", "parallel", tmp_path / "s.txt", tmp_path / "t.txt", "-o", tmp_path / "par",
                     "--source-lang", "en", "--target-lang", "de")
        assert rc == 0 and (tmp_path / "par" / "corpus.jsonl").is_file()


# --- 5: search's option checks and what Ctrl-C says -------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--query", "hello", "-o", "q.run"], "-o needs --topics"),
    (["--query", "hello", "--mode", "hybrid", "--fusion", "rrf", "--weights", "1,2"], "--weights applies to"),
    (["--query", "hello", "--weights", "1,2"], "--weights applies to"),  # bm25: weights would be ignored
])
def test_search_refuses_ignored_options(index_dir, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    rc, err = _cli(capsys, "search", index_dir, *args)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "q.run").exists()


@pytest.mark.parametrize("args, message", [
    (["--weights", "-1,1"], "argument --weights: weights must be 0 or more"),
    (["--weights", "-0.5"], "argument --weights: weights must be 0 or more"),
    (["--weights", "1e308,1"], "argument --weights: weights must be at most 1000"),
    (["--group-weight", "1e308"], "argument --group-weight: must be at most 1000"),
    (["--group-weight", "-1"], "argument --group-weight: must be 0 or more"),
])
def test_search_weights_are_checked(index_dir, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(["search", str(index_dir), "--query", "hello", "--mode", "hybrid", *args])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("command, said", [("search", "interrupted; nothing written"),
                                           ("eval", "interrupted; nothing written"),
                                           ("index", "the batches committed before it, if any, are kept")])
def test_interrupt_message_fits_the_command(command, said, capsys, monkeypatch):
    import importlib

    module = importlib.import_module(f"babelir.cli.{command}_cmd")

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "run", interrupted)
    argv = {"search": ["search", "ix", "--query", "x"], "eval": ["eval", "q", "r"], "index": ["index", "c", "-o", "ix"]}
    rc, err = _cli(capsys, *argv[command])
    assert rc == 130 and said in err
    if command != "index":
        assert "committed" not in err
