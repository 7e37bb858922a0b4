"""Ids over HTTP: the writable API refuses ids that would forge run lines, and every accepted id
(with "/", "%", "?", "#", non-ASCII) can be fetched and deleted."""

from urllib.parse import quote

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from babelir.index.core import Index  # noqa: E402
from babelir.io.demo import load_demo  # noqa: E402
from babelir.run import Run  # noqa: E402
from babelir.serve.app import create_app  # noqa: E402

KEY = {"X-API-Key": "s3cret"}


@pytest.fixture()
def client(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add(load_demo().docs[:3])
    with TestClient(create_app({"w": tmp_path / "ix"}, writable=True, api_key="s3cret")) as test_client:
        yield test_client


@pytest.mark.parametrize("bad", ["a b", "a\nq1 Q0 forged 1 99.0 x", "a\tb", "a\rb", "a\u00a0b", "a\u3000b",
                                 "a\u2028b", "a\x00b", "a\x1fb", "a\x85b", " "])
def test_ids_that_would_break_a_run_line_are_refused(client, bad):
    body = {"documents": [{"id": bad, "text": "Kahawa ni kinywaji", "lang": "sw"}]}
    response = client.post("/v1/docs/w", json=body, headers=KEY)
    assert response.status_code == 422, response.text
    assert "id" in response.text
    assert client.get("/v1/indexes").json()["indexes"][0]["documents"] == 3  # nothing was added


# (ids that hold a percent escape, "a%2Fb", are tested on a real server below: the TestClient decodes a
# path twice)
@pytest.mark.parametrize("doc_id", ["a/b", "x/y/z", "50%", "what?", "c#1", "ภาษา/ไทย", "a+b&c=d"])
def test_every_accepted_id_can_be_fetched_and_deleted(client, doc_id):
    body = {"documents": [{"id": doc_id, "text": "Kahawa ni kinywaji kitamu", "lang": "sw"}]}
    assert client.post("/v1/docs/w", json=body, headers=KEY).json() == {"added": 1}
    url = "/v1/docs/w/" + quote(doc_id, safe="")
    assert client.get(url).json()["id"] == doc_id
    hits = client.get("/v1/search", params={"index": "w", "q": "kinywaji"}).json()["results"]
    assert [h["id"] for h in hits] == [doc_id]
    assert client.delete(url, headers=KEY).json() == {"deleted": 1}
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=KEY).status_code == 404
    assert client.get("/v1/search", params={"index": "w", "q": "kinywaji"}).json()["results"] == []


def test_an_id_with_a_slash_also_works_unencoded(client):
    body = {"documents": [{"id": "wiki/Kahawa", "text": "Kahawa ni kinywaji", "lang": "sw"}]}
    assert client.post("/v1/docs/w", json=body, headers=KEY).json() == {"added": 1}
    assert client.get("/v1/docs/w/wiki/Kahawa").json()["text"] == "Kahawa ni kinywaji"
    assert client.delete("/v1/docs/w/wiki/Kahawa", headers=KEY).json() == {"deleted": 1}


def test_ids_added_over_http_write_run_lines_that_read_back(client, tmp_path):
    ids = ["a/b", "50%", "what?"]
    body = {"documents": [{"id": d, "text": f"Kahawa ni kinywaji {i}", "lang": "sw"} for i, d in enumerate(ids)]}
    assert client.post("/v1/docs/w", json=body, headers=KEY).json() == {"added": 3}
    hits = client.get("/v1/search", params={"index": "w", "q": "kinywaji", "mode": "bm25"}).json()["results"]
    run = Run({"q1": {h["id"]: h["score"] for h in hits}})
    run.to_trec(tmp_path / "a.run")
    assert set(Run.from_trec(tmp_path / "a.run")["q1"]) == set(ids)


def test_ids_with_percent_escapes_on_a_real_server(tmp_path):
    import httpx

    from tests.conftest import served_in_thread

    with Index.create(tmp_path / "ix") as index:
        index.add(load_demo().docs[:3])
    app = create_app({"w": tmp_path / "ix"}, writable=True, api_key="s3cret")
    with served_in_thread(app) as server:
        base = f"{server}/v1/docs/w"
        for doc_id in ("a%2Fb", "100%25", "a/b%3Fc", "what?"):
            body = {"documents": [{"id": doc_id, "text": "Kahawa ni kinywaji", "lang": "sw"}]}
            assert httpx.post(base, json=body, headers=KEY).json() == {"added": 1}
            url = f"{base}/{quote(doc_id, safe='')}"
            assert httpx.get(url).json()["id"] == doc_id
            assert httpx.delete(url, headers=KEY).json() == {"deleted": 1}
            assert httpx.get(url).status_code == 404
