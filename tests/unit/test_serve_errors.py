"""The service's error answers never show a path and always encode (babelir.serve.errors)."""

import json

import pytest

pytest.importorskip("fastapi")
from babelir.serve.errors import SafeJSONResponse, path_forms, scrub  # noqa: E402


@pytest.mark.parametrize("message, expected", [
    ("{d}: no documents in fi", "index 'demo': no documents in fi"),
    ("{d}/manifest.json: damaged", "index 'demo': damaged"),
    ("{r}: no documents in fi", "index 'demo': no documents in fi"),
    ("cannot open /var/lib/other/x.sqlite: denied.", "cannot open <path>: denied."),
    ("'/home/me/corpus.jsonl':3: bad", "'<path>':3: bad"),
    ("see ./ix/docs.sqlite and ../up/x", "see <path> and <path>"),
    ("C:\\Users\\me\\ix: gone", "<path>: gone"),
    ("no document 'a/b' in index 'demo'", "no document 'a/b' in index 'demo'"),
    ("mode bm25/dense, 1/2 done, k=10", "mode bm25/dense, 1/2 done, k=10"),
])
def test_scrub_replaces_served_directories_and_any_other_path(tmp_path, monkeypatch, message, expected):
    served = tmp_path / "served" / "ix"
    served.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "served")
    forms = path_forms({"demo": "ix"})  # given relative: every spelling of it is known
    out = scrub(message.format(d=served, r="ix"), forms)
    assert out == expected
    assert str(tmp_path) not in out


def test_a_relative_name_is_replaced_only_as_a_whole_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    forms = path_forms({"demo": "ix"})
    assert scrub("fix the mix: ix is damaged", forms) == "fix the mix: index 'demo' is damaged"


def test_a_lone_surrogate_is_written_as_its_json_escape():
    body = SafeJSONResponse({"detail": "bad \ud800 text", "ok": "ภาษา"}).body
    assert json.loads(body) == {"detail": "bad \ud800 text", "ok": "ภาษา"}
    body.decode("utf-8")  # valid UTF-8
