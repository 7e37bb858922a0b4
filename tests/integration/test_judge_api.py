"""The judging app's HTTP API (``babelir judge serve``), through FastAPI's TestClient: login,
sessions, the judging loop, its refusals (422, never a 500, never a path) and the leases that keep
two assessors off one single-judged pair."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from babelir.judge.project import Project  # noqa: E402

SECRETS = {"somchai": "secret-th-1", "layla": "secret-ar-2", "wei": "secret-zh-3"}

DOCS = [
    ("th-1", "th", "ช้างเป็นสัตว์บกที่ใหญ่ที่สุดในโลก ช้างกินพืช"),
    ("th-2", "th", "แมวเป็นสัตว์เลี้ยงที่นิยมในประเทศไทย"),
    ("th-3", "th", "ช้างไทยอาศัยอยู่ในป่าทางภาคเหนือ"),
    ("ar-1", "ar", "القمر يسبب المد والجزر في البحار والمحيطات"),
    ("ar-2", "ar", "الشمس نجم في مركز المجموعة الشمسية"),
    ("ar-3", "ar", "جاذبية القمر تسحب مياه المحيطات"),
    ("zh-1", "zh", "咖啡起源于埃塞俄比亚，后来传到阿拉伯。"),
    ("zh-2", "zh", "茶是中国最常见的饮料。"),
    ("zh-3", "zh", "咖啡豆在烘焙以后才有香味。"),
]
QUERIES = [("q-th", "th", "ช้าง"), ("q-ar", "ar", "القمر"), ("q-zh", "zh", "咖啡")]


def build_project(root: Path, overlap: float = 0.0, assessors: dict[str, str | None] | None = None) -> Path:
    """A project pooled from two runs over Thai, Arabic and Chinese documents (three per query);
    ``assessors``: name -> languages ("th,ar"; None: every language), with the secrets of SECRETS."""
    from babelir.index.core import Index
    from babelir.judge.pool import pool
    from babelir.run import Run
    from babelir.types import Doc

    index = root / "index"
    with Index.create(index) as ix:
        ix.add([Doc(doc_id, text, title=f"title {doc_id}", lang=lang) for doc_id, lang, text in DOCS])
    topics = root / "topics.tsv"
    topics.write_text("".join(f"{qid}\t{text}\t{lang}\n" for qid, lang, text in QUERIES), encoding="utf-8")
    runs = []
    for name, sign in (("a", 1.0), ("b", -1.0)):
        scores = {qid: {d: sign * (10 - i) for i, (d, dl, _) in enumerate(DOCS) if dl == lang}
                  for qid, lang, _ in QUERIES}
        path = root / f"{name}.run"
        Run(scores, name=name).to_trec(path)
        runs.append(path)
    project = root / "project"
    pool(project, runs, depth=3, topics=topics, index=index, overlap=overlap)
    with Project.open(project) as p:
        for name, langs in (assessors if assessors is not None else {"somchai": None, "layla": None}).items():
            p.add_assessor(name, langs.split(",") if langs else None, SECRETS.get(name, "secret-xx-0"))
    return project


@pytest.fixture()
def client(tmp_path):
    from fastapi.testclient import TestClient

    from babelir.judge.app import create_judge_app

    project = build_project(tmp_path)
    with TestClient(create_judge_app(project)) as c:
        c.project_dir = project
        yield c


def _login(client, name: str) -> dict:
    r = client.post("/api/login", json={"name": name, "secret": SECRETS[name]})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


def _no_path(response, project_dir: Path) -> None:
    text = response.text
    assert str(project_dir) not in text and str(project_dir.parent) not in text and "/tmp" not in text, text


def test_login_and_sessions(client):
    r = client.post("/api/login", json={"name": "somchai", "secret": SECRETS["somchai"]})
    body = r.json()
    assert r.status_code == 200 and body["assessor"] == "somchai" and body["scale"] == "graded"
    assert body["grades"] == [0, 1, 2, 3] and body["langs"] == ["*"] and len(body["token"]) > 20
    assert client.post("/api/login", json={"name": "somchai", "secret": "wrong-secret"}).status_code == 401
    assert client.post("/api/login", json={"name": "nobody", "secret": "whatever1"}).status_code == 401
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer " + "x" * 300}):
        for method, path in (("GET", "/api/next"), ("POST", "/api/undo"), ("GET", "/api/progress"),
                             ("GET", "/api/guidelines")):
            assert client.request(method, path, headers=headers).status_code == 401, (method, path, headers)
    assert client.post("/api/judgments", json={"pair_id": 1, "grade": 1}).status_code == 401
    r = client.get("/api/guidelines", headers={"Authorization": "Bearer " + body["token"]})
    assert r.status_code == 200 and r.json()["markdown"].startswith("# Judging guidelines")
    page = client.get("/")
    assert page.status_code == 200 and "/static/judge.js" in page.text
    assert "content-security-policy" in page.headers
    assert client.get("/static/judge.js").status_code == 200 and client.get("/static/judge.css").status_code == 200


def test_next_judge_undo_skip_cant(client):
    auth = _login(client, "somchai")
    first = client.get("/api/next", headers=auth).json()["pair"]
    assert set(first) >= {"id", "query_id", "query", "query_lang", "query_dir", "doc_id", "title", "text",
                          "doc_lang", "doc_dir", "marks", "shown"}
    assert "".join(text for text, _ in first["marks"]) == first["text"]
    assert client.get("/api/next", headers=auth).json()["pair"]["id"] == first["id"]  # a reload: the same pair
    r = client.post("/api/judgments", json={"pair_id": first["id"], "grade": 2, "seconds": 3.5}, headers=auth)
    assert r.status_code == 200 and isinstance(r.json()["judgment"], int)
    second = client.get("/api/next", headers=auth).json()["pair"]
    assert second["id"] != first["id"]
    assert client.post("/api/judgments", json={"pair_id": second["id"], "grade": None, "status": "skip"},
                       headers=auth).status_code == 200
    third = client.get("/api/next", headers=auth).json()["pair"]
    assert client.post("/api/judgments", json={"pair_id": third["id"], "status": "cant", "seconds": 1},
                       headers=auth).status_code == 200
    undone = client.post("/api/undo", headers=auth).json()["pair"]
    assert undone["id"] == third["id"]
    assert client.get("/api/next", headers=auth).json()["pair"]["id"] == third["id"]
    progress = client.get("/api/progress", headers=auth).json()
    assert progress["me"]["judged"] == 1 and progress["me"]["skip"] == 1 and progress["me"]["cant"] == 0
    assert set(progress["languages"]) == {"th", "ar", "zh"}
    with Project.open(client.project_dir) as p:
        live = [(j[0], j[4], j[5], j[6], j[8]) for j in p.live_judgments()]
    assert [j[:4] for j in live] == [(first["id"], "somchai", 2, "judged"), (second["id"], "somchai", None, "skip")]
    assert live[0][4] == 3.5 and 0.0 <= live[1][4] < 30  # sent, or (none sent) the time since it was shown


def test_directions_and_marks(client):
    auth = _login(client, "somchai")
    seen = {}
    for _ in range(9):
        pair = client.get("/api/next", headers=auth).json()["pair"]
        if pair is None:
            break
        seen[pair["doc_id"]] = pair
        client.post("/api/judgments", json={"pair_id": pair["id"], "grade": 0}, headers=auth)
    assert len(seen) == 9 and client.get("/api/next", headers=auth).json() == {"pair": None}
    for doc_id, pair in seen.items():
        rtl = doc_id.startswith("ar")
        assert pair["doc_dir"] == pair["query_dir"] == ("rtl" if rtl else "ltr")
    marked = {doc_id: [t for t, m in pair["marks"] if m] for doc_id, pair in seen.items()}
    assert marked["th-1"] == ["ช้าง", "ช้าง"] and marked["th-2"] == []
    assert marked["ar-1"] == ["القمر"] and marked["zh-1"] == ["咖啡"] and marked["zh-2"] == []


def test_refusals_are_422_with_one_line(client):
    auth = _login(client, "somchai")
    pair = client.get("/api/next", headers=auth).json()["pair"]
    cases = [
        {"pair_id": pair["id"], "grade": 7},
        {"pair_id": pair["id"], "grade": 2, "status": "skip"},
        {"pair_id": 99999, "grade": 1},
        {"pair_id": "1", "grade": 1},
        {"pair_id": pair["id"], "grade": "2"},
        {"pair_id": pair["id"], "grade": True},
        {"pair_id": pair["id"], "grade": 1.5},
        {"pair_id": pair["id"], "grade": 1, "status": "maybe"},
        {"pair_id": pair["id"], "grade": 1, "seconds": -1},
        {"pair_id": pair["id"], "grade": 1, "extra": 1},
        {"pair_id": 2**70, "grade": 1},
        {"grade": 1},
        [],
    ]
    for body in cases:
        r = client.post("/api/judgments", json=body, headers=auth)
        detail = r.json()["detail"]
        assert r.status_code == 422 and isinstance(detail, str) and "\n" not in detail and detail, (body, r.text)
    for raw in ("not json", "{", '{"pair_id": NaN, "grade": 1}', "\x00\x01"):
        r = client.post("/api/judgments", content=raw, headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 422, (raw, r.text)
    assert client.post("/api/judgments", content="pair_id=1", headers={**auth, "Content-Type": "text/plain"}
                       ).status_code == 415
    with Project.open(client.project_dir) as p:
        assert p.live_judgments() == []


def test_hostile_input_never_500_nor_a_path(client):
    auth = _login(client, "somchai")
    bodies = [{"name": "\ud800", "secret": "x" * 10}, {"name": "a" * 65, "secret": "x"}, {"name": "../../etc",
              "secret": "\x00" * 10}, {"name": "somchai", "secret": "\udfff" * 9}, {"name": 1, "secret": []},
              "null", 5]
    for body in bodies:
        r = client.post("/api/login", content=json.dumps(body), headers={"Content-Type": "application/json"})
        assert r.status_code in (401, 422), (body, r.status_code, r.text)
        _no_path(r, client.project_dir)
    for raw in (b'{"name": "\\ud800", "secret": "\\udc00aaaaaaa"}', b"\xff\xfe", b"[" * 5000, b'"' + b"a" * 70000):
        r = client.post("/api/login", content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 401, 413, 422), (raw[:20], r.status_code, r.text)
        _no_path(r, client.project_dir)
    for path in ("/api/next?x=%FF", "/api/%2e%2e/%2e%2e/etc/passwd", "/static/../app.py", "/api/judgments/1"):
        r = client.get(path, headers=auth)
        assert r.status_code < 500, (path, r.status_code)
        _no_path(r, client.project_dir)
    r = client.post("/api/judgments", json={"pair_id": 1, "grade": 1, "seconds": 1e308}, headers=auth)
    assert r.status_code == 422
    _no_path(r, client.project_dir)


def test_leases_keep_assessors_apart(tmp_path):
    """needed=1: two assessors at once never hold the same pair; needed=2 (overlap 1): both judge each."""
    from fastapi.testclient import TestClient

    from babelir.judge.app import create_judge_app

    for overlap, same in ((0.0, False), (1.0, True)):
        project = build_project(tmp_path / str(overlap), overlap=overlap)
        with TestClient(create_judge_app(project)) as client:
            a, b = _login(client, "somchai"), _login(client, "layla")
            shown_a, shown_b = [], []
            for _ in range(20):
                pa = client.get("/api/next", headers=a).json()["pair"]
                pb = client.get("/api/next", headers=b).json()["pair"]
                if pa is None and pb is None:
                    break
                if not same:
                    assert pa is None or pb is None or pa["id"] != pb["id"]
                for pair, auth, shown in ((pa, a, shown_a), (pb, b, shown_b)):
                    if pair is not None:
                        shown.append(pair["id"])
                        assert client.post("/api/judgments", json={"pair_id": pair["id"], "grade": 1},
                                           headers=auth).status_code == 200
        if same:
            assert sorted(shown_a) == sorted(shown_b) and len(shown_a) == 9
        else:
            assert not set(shown_a) & set(shown_b) and len(shown_a) + len(shown_b) == 9


def test_languages_and_binary_scale(tmp_path):
    from fastapi.testclient import TestClient

    from babelir.judge.app import create_judge_app

    project = build_project(tmp_path, assessors={"layla": "ar"})
    with TestClient(create_judge_app(project)) as client:
        auth = _login(client, "layla")
        langs = set()
        while (pair := client.get("/api/next", headers=auth).json()["pair"]) is not None:
            langs.add(pair["doc_lang"])
            client.post("/api/judgments", json={"pair_id": pair["id"], "grade": 3}, headers=auth)
        assert langs == {"ar"}
        body = json.loads(client.post("/api/login", json={"name": "layla", "secret": SECRETS["layla"]}).text)
        assert body["langs"] == ["ar"]
