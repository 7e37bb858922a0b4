"""Issue 18's bug-report and bad-input cases, run through the real ``babelir`` command line.

Each case is a small input rebuilt from a public bug report of a search or evaluation tool, or a fault
(bad file, interrupted write, hostile request). A case passes when babelir gives the right value, or
refuses the input with a one-line error (exit 2, no traceback). The table says which cases pass.

    python -m benchmarks.bug_cases                         # this checkout
    PYTHONPATH=/tmp/old/src python -m benchmarks.bug_cases # another checkout's code, for a before/after

Outputs: one row per case (pass / FAIL and what was seen), then the counts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = []


def case(name):
    def register(fn):
        CASES.append((name, fn))
        return fn

    return register


def babelir(*args, cwd, stdin=None, env=None):
    """Run ``python -m babelir ARGS``; returns (exit status, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "babelir", *args], cwd=cwd, capture_output=True, timeout=300,
        env={**os.environ, **(env or {})}, input=stdin,
    )
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def one_line_error(result) -> tuple[bool, str]:
    code, _, err = result
    lines = [line for line in err.strip().splitlines() if line.strip()]
    ok = code == 2 and len(lines) == 1 and "Traceback" not in err
    return ok, f"exit {code}: {lines[-1][:90] if lines else ''}"


def corpus(tmp: Path, docs: list[dict], name="corpus.jsonl") -> Path:
    path = tmp / name
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


def finds(tmp, docs, query, want, *index_args, search_args=()):
    code, _, err = babelir("index", str(corpus(tmp, docs)), "-o", "ix", "-q", *index_args, cwd=tmp)
    if code:
        return False, f"index exit {code}: {err.strip()[-90:]}"
    code, out, err = babelir("search", "ix", "--query", query, *search_args, cwd=tmp)
    return (code == 0 and want in out), f"exit {code}; {'found' if want in out else 'not found'} {want}"


THAI = "ทีมงานปรับปรุงการทำงานโดยรวมของบริษัท"
FILLER = [{"id": f"f{i}", "text": f"filler text number {i} about rivers", "lang": "en"} for i in range(3)]


@case("1 th words only: query ปรับปรุง finds a sentence holding it")
def thai_segment(tmp):
    docs = [{"id": "t1", "text": THAI, "lang": "th"}, {"id": "t2", "text": "แม่น้ำเจ้าพระยา", "lang": "th"}]
    return finds(tmp, docs, "ปรับปรุง", "t1", "--no-pieces", search_args=("--lang", "th"))


@case("1 lo: ສຳລັບ is one term")
def lao_term(tmp):
    code, out, _ = babelir("analyze", "--lang", "lo", "ສຳລັບນັກຮຽນ", cwd=tmp)
    return (code == 0 and "ສຳລັບ" in out.split()), out.strip()[:90]


@case("2 th: query 32900 finds ราคา๓๒๙๐๐บาท")
def thai_digits(tmp):
    docs = [{"id": "t1", "text": "ตั๋วเครื่องบินราคา๓๒๙๐๐บาท", "lang": "th"}, {"id": "t2", "text": "แม่น้ำเจ้าพระยา", "lang": "th"}]
    return finds(tmp, docs, "32900", "t1", "--no-pieces", search_args=("--lang", "th"))


@case("3 en: query izmir finds İzmir")
def dotted_i(tmp):
    docs = [{"id": "d1", "text": "İzmir is a port city on the Aegean coast.", "lang": "en"}, *FILLER]
    return finds(tmp, docs, "izmir", "d1", "--no-pieces")


@case("4 en-only index: one-word query 'hospital' finds its document")
def one_word(tmp):
    docs = [{"id": "d1", "text": "The new hospital opened in March.", "lang": "en"}, *FILLER]
    return finds(tmp, docs, "hospital", "d1", "--no-pieces")


def eval_case(tmp, qrels: str, run: str):
    (tmp / "qrels.trec").write_text(qrels)
    (tmp / "run.trec").write_text(run)
    return one_line_error(babelir("eval", "qrels.trec", "run.trec", cwd=tmp))


@case("5 run lists one document twice for a query: refused")
def run_duplicate(tmp):
    return eval_case(tmp, "q1 0 d1 1\n", "q1 Q0 d1 1 2.0 r\nq1 Q0 d2 2 1.5 r\nq1 Q0 d1 3 1.0 r\n")


@case("5 qrels judge one pair twice, differently: refused")
def qrels_conflict(tmp):
    return eval_case(tmp, "q1 0 d1 1\nq1 0 d2 0\nq1 0 d1 0\n", "q1 Q0 d1 1 2.0 r\n")


@case("5 run holds a NaN score: refused")
def run_nan(tmp):
    return eval_case(tmp, "q1 0 d1 1\n", "q1 Q0 d1 1 nan r\nq1 Q0 d2 2 1.0 r\n")


@case("6 run scores round-trip exactly through the file")
def run_roundtrip(tmp):
    from babelir.run import Run

    scores = {"d1": 0.12345671, "d2": 0.12345674, "d3": 0.1234567}
    Run({"q1": scores}).to_trec(tmp / "run.trec")
    got = dict(Run.from_trec(tmp / "run.trec")["q1"])
    return got == scores, str(got)


@case("7 a document id holding a space: refused at input")
def id_space(tmp):
    corpus(tmp, [{"id": "a b", "text": "hello world", "lang": "en"}])
    return one_line_error(babelir("index", "corpus.jsonl", "-o", "ix", "-q", cwd=tmp))


@case("7 a topic id holding a tab: refused at input")
def topic_tab(tmp):
    corpus(tmp, [{"id": "d1", "text": "hello world", "lang": "en"}])
    babelir("index", "corpus.jsonl", "-o", "ix", "-q", cwd=tmp)
    (tmp / "topics.jsonl").write_text(json.dumps({"_id": "q\t1", "text": "hello"}) + "\n")
    return one_line_error(babelir("search", "ix", "--topics", "topics.jsonl", "-o", "run.trec", cwd=tmp))


@case("8 lone surrogate with --skip-bad: only that record skipped")
def surrogate(tmp):
    lines = [json.dumps({"id": f"d{i}", "text": f"good text {i}", "lang": "en"}) for i in range(12)]
    lines.insert(5, '{"id": "bad", "text": "bad \\ud800 text", "lang": "en"}')
    (tmp / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    code, out, err = babelir("index", "corpus.jsonl", "-o", "ix", "--skip-bad", "--batch-size", "4", cwd=tmp)
    info = json.loads((tmp / "ix" / "manifest.json").read_text()) if (tmp / "ix" / "manifest.json").exists() else {}
    count = info.get("doc_count")
    return code == 0 and count == 12, f"exit {code}; {count} documents; {(err or out).strip().splitlines()[-1:]}"


@case("8 JSON nested 100,000 deep: one-line error")
def deep_json(tmp):
    (tmp / "corpus.jsonl").write_text('{"id": "d1", "text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    return one_line_error(babelir("index", "corpus.jsonl", "-o", "ix", "-q", cwd=tmp))


@case("8 truncated .gz corpus: one-line error")
def truncated_gz(tmp):
    data = gzip.compress("".join(json.dumps({"id": f"d{i}", "text": "x " * 50}) + "\n" for i in range(500)).encode())
    (tmp / "corpus.jsonl.gz").write_bytes(data[: len(data) // 2])
    return one_line_error(babelir("index", "corpus.jsonl.gz", "-o", "ix", "-q", cwd=tmp))


@case("8 truncated .gz qrels: one-line error")
def truncated_gz_qrels(tmp):
    data = gzip.compress("".join(f"q{i} 0 d{i} 1\n" for i in range(2000)).encode())
    (tmp / "qrels.trec.gz").write_bytes(data[: len(data) // 2])
    (tmp / "run.trec").write_text("q1 Q0 d1 1 1.0 r\n")
    return one_line_error(babelir("eval", "qrels.trec.gz", "run.trec", cwd=tmp))


@case("8 -o pointing at an existing directory (run file): one-line error")
def output_dir(tmp):
    corpus(tmp, [{"id": "d1", "text": "hello world", "lang": "en"}])
    babelir("index", "corpus.jsonl", "-o", "ix", "-q", cwd=tmp)
    (tmp / "topics.tsv").write_text("q1\thello\n")
    (tmp / "out").mkdir()
    ok, seen = one_line_error(babelir("search", "ix", "--topics", "topics.tsv", "-o", "out", cwd=tmp))
    return ok and ".tmp" not in seen, seen  # the message names the user's path, not a temporary file


@case("8 --k 0: one-line error")
def k_zero(tmp):
    corpus(tmp, [{"id": "d1", "text": "hello world", "lang": "en"}])
    babelir("index", "corpus.jsonl", "-o", "ix", "-q", cwd=tmp)
    return one_line_error(babelir("search", "ix", "--query", "hello", "--k", "0", cwd=tmp))


@case("8 an argument that is not valid UTF-8: one-line error")
def bad_utf8(tmp):
    done = subprocess.run([sys.executable, "-m", "babelir", "analyze", b"caf\xc3"], cwd=tmp, capture_output=True, timeout=120)
    return one_line_error((done.returncode, "", done.stderr.decode("utf-8", "replace")))


@case("8 a second writer on the same index: one-line error")
def second_writer(tmp):
    corpus(tmp, [{"id": f"d{i}", "text": f"text {i} " * 20, "lang": "en"} for i in range(30000)])
    first = subprocess.Popen([sys.executable, "-m", "babelir", "index", "corpus.jsonl", "-o", "ix", "-q"], cwd=tmp,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not (tmp / "ix" / "manifest.json").exists() and time.time() < deadline:
        time.sleep(0.1)
    corpus(tmp, [{"id": "other", "text": "another document", "lang": "en"}], name="more.jsonl")
    result = babelir("index", "more.jsonl", "-o", "ix", "-q", cwd=tmp)
    first.wait(timeout=300)
    return one_line_error(result)


@case("9 SIGKILL in the first second of a new index: the rerun resumes")
def kill_new(tmp):
    corpus(tmp, [{"id": f"d{i}", "text": f"text {i} " * 20, "lang": "en"} for i in range(5000)])
    proc = subprocess.Popen([sys.executable, "-m", "babelir", "index", "corpus.jsonl", "-o", "ix", "-q"], cwd=tmp)
    time.sleep(0.8)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    code, _, err = babelir("index", "corpus.jsonl", "-o", "ix", "-q", cwd=tmp)
    return code == 0, f"rerun exit {code} {err.strip()[-80:]}"


@case("16 --query -adapter is a query, not an option")
def dash_query(tmp):
    corpus(tmp, [{"id": "d1", "text": "the adapter plugs in", "lang": "en"}, *FILLER])
    babelir("index", "corpus.jsonl", "-o", "ix", "-q", cwd=tmp)
    code, out, err = babelir("search", "ix", "--query", "-adapter", cwd=tmp)
    return code == 0 and "d1" in out, f"exit {code} {err.strip()[-80:]}"


@case("trial: -o through a symlink writes its target, keeps the link")
def output_symlink(tmp):
    corpus(tmp, [{"id": "d1", "text": "hello world", "lang": "en"}])
    babelir("index", "corpus.jsonl", "-o", "ix", "-q", cwd=tmp)
    (tmp / "topics.tsv").write_text("q1\thello\n")
    (tmp / "target.run").write_text("old\n")
    (tmp / "link.run").symlink_to("target.run")
    code, _, err = babelir("search", "ix", "--topics", "topics.tsv", "-o", "link.run", cwd=tmp)
    ok = code == 0 and (tmp / "link.run").is_symlink() and "d1" in (tmp / "target.run").read_text()
    return ok, f"exit {code}; link kept: {(tmp / 'link.run').is_symlink()} {err.strip()[-60:]}"


@case("trial: a relevance grade beyond a C int is refused (was silently not relevant)")
def huge_grade(tmp):
    return eval_case(tmp, "q1 0 d1 4294967296\nq1 0 d2 1\n", "q1 Q0 d1 1 2.0 r\nq1 Q0 d2 2 1.0 r\n")


@case("trial: a topic with no searchable text is refused")
def empty_topic(tmp):
    corpus(tmp, [{"id": "d1", "text": "hello world", "lang": "en"}])
    babelir("index", "corpus.jsonl", "-o", "ix", "-q", cwd=tmp)
    (tmp / "topics.tsv").write_text("q1\thello\nq2\t!!!\n")
    return one_line_error(babelir("search", "ix", "--topics", "topics.tsv", "-o", "run.trec", cwd=tmp))


@case("trial: a short English text without a language, in an en+th index, is en")
def short_doc_language(tmp):
    docs = [{"id": f"e{i}", "text": f"The river flows past the old town number {i}.", "lang": "en"} for i in range(5)]
    docs += [{"id": f"t{i}", "text": "แม่น้ำไหลผ่านเมืองเก่า", "lang": "th"} for i in range(5)]
    docs += [{"id": "x1", "text": "hello there"}, {"id": "x2", "text": "The Tesla car is electric"}]
    code, _, err = babelir("index", str(corpus(tmp, docs)), "-o", "ix", "-q", cwd=tmp)
    held = json.loads((tmp / "ix" / "manifest.json").read_text()).get("languages", {}) if code == 0 else {}
    return code == 0 and set(held) == {"en", "th"}, f"exit {code}; languages {held}"


def served(tmp, docs, writable=False):
    """A TestClient over an index of ``docs`` (built with the CLI), as ``babelir serve`` serves it."""
    from fastapi.testclient import TestClient

    from babelir.serve.app import create_app

    code, _, err = babelir("index", str(corpus(tmp, docs)), "-o", "ix", "-q", "--no-pieces", cwd=tmp)
    if code:
        raise RuntimeError(f"index exit {code}: {err.strip()[-80:]}")
    return TestClient(create_app({"ix": tmp / "ix"}, writable=writable), raise_server_exceptions=False)


@case("11 lone surrogate in a POST body, read-only server: 4xx")
def http_surrogate(tmp):
    with served(tmp, FILLER) as client:
        body = b'[{"id": "x1", "text": "bad \\ud800 text", "lang": "en"}]'
        answer = client.post("/v1/docs/ix", content=body, headers={"content-type": "application/json"})
    return 400 <= answer.status_code < 500, f"HTTP {answer.status_code}"


@case("12 bad requests never show a filesystem path (and never 5xx)")
def http_paths(tmp):
    with served(tmp, FILLER) as client:
        answers = [client.get(url) for url in (
            "/v1/search?index=ix&q=rivers&mode=dense", "/v1/search?index=ix&q=rivers&k=0",
            "/v1/search?index=nope&q=rivers", "/v1/search?index=ix&q=rivers&lang=xx",
            "/v1/docs/ix/missing", "/v1/search?index=ix&q=rivers&langs=zz")]
    bad = [a.status_code for a in answers if str(tmp) in a.text or "/tmp" in a.text or a.status_code >= 500]
    return not bad, f"statuses {[a.status_code for a in answers]}; leaking or 5xx: {bad}"


@case("13 total is the same at every offset")
def http_total(tmp):
    docs = [{"id": f"d{i}", "text": f"rivers and lakes {i}", "lang": "en"} for i in range(150)]
    with served(tmp, docs) as client:
        totals = {o: client.get(f"/v1/search?index=ix&q=rivers&k=10&offset={o}").json().get("total") for o in (0, 90, 100, 140)}
    return len(set(totals.values())) == 1 and totals[0] == 150, str(totals)


@case("14 highlighting a 10 MB document: a k=1 search under 5 s")
def http_long_doc(tmp):
    words = ("lorem ipsum dolor sit amet " * 400_000)[:10_000_000]
    docs = [{"id": "big", "text": words + " needle", "lang": "en"}, *FILLER]
    with served(tmp, docs) as client:
        start = time.perf_counter()
        answer = client.get("/v1/search?index=ix&q=needle&k=1")
        took = time.perf_counter() - start
    return answer.status_code == 200 and took < 5, f"HTTP {answer.status_code} in {took:.1f} s"


@case("15 Content-Security-Policy and X-Content-Type-Options on every answer")
def http_headers(tmp):
    with served(tmp, FILLER) as client:
        answers = [client.get(url) for url in ("/", "/v1/indexes", "/v1/search?index=ix&q=rivers", "/v1/search")]
    missing = [a.status_code for a in answers
               if "content-security-policy" not in a.headers or a.headers.get("x-content-type-options") != "nosniff"]
    return not missing, f"answers without both headers: {len(missing)} of {len(answers)}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", "--only", help="run the cases whose name holds this text")
    args = parser.parse_args(argv)
    passed = failed = 0
    for name, fn in CASES:
        if args.only and args.only not in name:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            try:
                ok, seen = fn(Path(tmp))
            except Exception as exc:  # a case that crashes the harness is a failure of babelir's API
                ok, seen = False, f"{type(exc).__name__}: {str(exc)[:80]}"
        passed += ok
        failed += not ok
        print(f"{'pass' if ok else 'FAIL'}  {name:<66}  {seen}", flush=True)
    print(f"\n{passed + failed} cases: {passed} pass, {failed} fail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
