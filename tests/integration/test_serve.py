"""The HTTP API (FastAPI TestClient) over the demo collection: search in every mode, limits, errors."""

import json

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from babelir.index.core import Index  # noqa: E402
from babelir.io.demo import load_demo  # noqa: E402
from babelir.serve.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory):
    from babelir.encode.base import get_encoder

    directory = tmp_path_factory.mktemp("serve") / "demo"
    with Index.create(directory, encoder=get_encoder(), sparse=True) as index:
        index.add(load_demo().docs)
    return directory


@pytest.fixture(scope="module")
def client(demo_index):
    with TestClient(create_app({"demo": demo_index})) as test_client:
        yield test_client


def test_health_indexes_and_openapi(client):
    assert client.get("/health").json() == {"status": "ok", "indexes": ["demo"]}
    (described,) = client.get("/v1/indexes").json()["indexes"]
    assert described["name"] == "demo" and described["documents"] == 240
    assert described["modes"] == ["hybrid", "dense", "sparse", "bm25"] and described["default_mode"] == "hybrid"
    assert {"th", "zh", "ar"} <= set(described["languages"]) and described["encoder"] == "e5-small"
    assert "/v1/search" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 404  # no page that loads scripts from a CDN


@pytest.mark.parametrize("query, lang, expected_doc", [
    ("ช้างเป็นสัตว์บกที่ใหญ่ที่สุด", "th", "th-elephants"),
    ("咖啡从哪里来", "zh", "zh-coffee"),
    ("ما الذي يسبب المد والجزر", "ar", "ar-moon"),
])
def test_search_every_script_with_highlights(client, query, lang, expected_doc):
    for mode in ("bm25", "dense", "sparse", "hybrid"):
        data = client.get("/v1/search", params={"index": "demo", "q": query, "mode": mode, "k": 5}).json()
        assert data["mode"] == mode and data["detected_lang"] == lang and data["total"] >= 1
        assert len(data["results"]) <= 5
    data = client.get("/v1/search", params={"index": "demo", "q": query, "langs": lang}).json()
    top = data["results"][0]
    assert data["mode"] == "hybrid" and all(r["lang"] == lang for r in data["results"])
    assert top["id"] == expected_doc, data["results"][:3]
    bm25 = client.get("/v1/search", params={"index": "demo", "q": query, "mode": "bm25", "langs": lang}).json()
    hit = bm25["results"][0]
    assert hit["highlights"], hit
    for start, end in hit["highlights"]:
        assert hit["snippet"][start:end].strip()  # offsets point at words of the snippet


@pytest.mark.parametrize("mode", ["bm25", "dense", "sparse", "hybrid"])
def test_total_is_the_same_at_every_offset_and_pages_tile_the_ranking(client, mode):
    """Every page is cut from one ranking: the same total at every offset, and the pages, put
    together, are that ranking (no result twice, none missed)."""
    params = {"index": "demo", "q": "coffee grows where", "mode": mode, "lang": "en"}
    pages, totals = [], set()
    for offset in range(0, 1000, 100):
        data = client.get("/v1/search", params={**params, "k": 100, "offset": offset}).json()
        totals.add(data["total"])
        pages += [r["id"] for r in data["results"]]
        if not data["results"]:
            break
    assert len(totals) == 1 and len(pages) == totals.pop() and len(set(pages)) == len(pages)
    if mode != "bm25":
        assert len(pages) > 100  # more than the old first page's 100
    for offset in (0, 90, 100, 140, len(pages) - 1):
        data = client.get("/v1/search", params={**params, "k": 10, "offset": offset}).json()
        assert data["total"] == len(pages) and [r["id"] for r in data["results"]] == pages[offset:offset + 10]


def test_paging_and_documents(client):
    first = client.get("/v1/search", params={"index": "demo", "q": "coffee", "k": 3, "mode": "dense"}).json()
    second = client.get("/v1/search", params={"index": "demo", "q": "coffee", "k": 3, "offset": 3,
                                               "mode": "dense"}).json()
    assert first["total"] == second["total"] >= 6
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    doc = client.get("/v1/docs/demo/en-coffee").json()
    assert doc["lang"] == "en" and "coffee" in doc["text"].lower()
    assert client.get("/v1/docs/demo/nope").status_code == 404


@pytest.mark.parametrize("params, status", [
    ({"index": "../../etc", "q": "x"}, 422),
    ({"index": "missing", "q": "x"}, 404),
    ({"index": "demo", "q": "x", "k": 1_000_000_000}, 422),
    ({"index": "demo", "q": "x", "k": 0}, 422),
    ({"index": "demo", "q": "x", "offset": -1}, 422),
    ({"index": "demo", "q": ""}, 422),
    ({"index": "demo", "q": "   "}, 422),
    ({"index": "demo", "q": "x" * 1001}, 422),
    ({"index": "demo", "q": "x", "mode": "quantum"}, 422),
    ({"index": "demo", "q": "x", "langs": "xx"}, 422),
    ({"index": "demo", "q": "x", "langs": "th;drop"}, 422),
    ({"index": "demo"}, 422),
])
def test_bad_parameters_are_4xx_with_a_reason(client, params, status):
    response = client.get("/v1/search", params=params)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_odd_inputs_never_give_a_500(client):
    for q in ["\x00\x01", "‮‫ RTL override", "🦜" * 300, "a" * 1000, "'; DROP TABLE docs; --", "\ud7ff\ue000",
              "َ ِ ُ", "*" * 50, "\u200b\u200c\u200d"]:
        for mode in ("bm25", "dense", "hybrid"):
            response = client.get("/v1/search", params={"index": "demo", "q": q, "mode": mode})
            assert response.status_code < 500, (q, mode, response.text)
    assert client.get("/v1/docs/demo/" + "%2e%2e%2f" * 5).status_code == 404


def test_read_only_by_default_and_oversized_bodies(client):
    body = {"documents": [{"id": "new", "text": "hello"}]}
    assert client.post("/v1/docs/demo", json=body).status_code == 403
    assert client.delete("/v1/docs/demo/en-coffee").status_code == 403
    huge = client.post("/v1/docs/demo", content=b"x" * 2_000_000, headers={"content-type": "application/json"})
    assert huge.status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"x" * 50_000
    assert client.post("/v1/docs/demo", content=chunks(), headers={"content-type": "application/json"}).status_code == 413


def test_writable_server_needs_the_key(tmp_path):
    from babelir.errors import BabelirError

    with Index.create(tmp_path / "ix") as index:
        index.add(load_demo().docs[:5])
    with pytest.raises(BabelirError, match="needs an API key"):
        create_app({"w": tmp_path / "ix"}, writable=True)
    with TestClient(create_app({"w": tmp_path / "ix"}, writable=True, api_key="s3cret")) as client:
        body = {"documents": [{"id": "new-1", "text": "Kahawa ni kinywaji kitamu sana", "lang": "sw"}]}
        assert client.post("/v1/docs/w", json=body).status_code == 401
        assert client.post("/v1/docs/w", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.post("/v1/docs/w", json=body, headers={"X-API-Key": "s3cret"}).json() == {"added": 1}
        assert client.post("/v1/docs/w", json=body, headers={"X-API-Key": "s3cret"}).status_code == 409
        hits = client.get("/v1/search", params={"index": "w", "q": "kinywaji"}).json()["results"]
        assert hits[0]["id"] == "new-1" and hits[0]["lang"] == "sw"
        assert client.delete("/v1/docs/w/new-1", headers={"X-API-Key": "s3cret"}).json() == {"deleted": 1}
        assert client.delete("/v1/docs/w/new-1", headers={"X-API-Key": "s3cret"}).status_code == 404
        assert client.get("/v1/search", params={"index": "w", "q": "kinywaji"}).json()["results"] == []

        def streamed():  # a chunked body (no Content-Length) reaches the endpoint whole
            yield json.dumps({"documents": [{"id": "new-2", "text": "Chai ni kinywaji", "lang": "sw"}]}).encode()
        assert client.post("/v1/docs/w", content=streamed(), headers={"X-API-Key": "s3cret",
                                                                       "content-type": "application/json"}).json() \
            == {"added": 1}


def test_a_long_encode_does_not_hold_back_bm25_requests(client):
    import threading
    import time

    service = client.app.state.services["demo"]
    encoder = service.index.encoder
    original = encoder.encode_queries

    def slow(texts):
        time.sleep(3.0)
        return original(texts)

    encoder.encode_queries = slow
    try:
        finished = {}

        def dense_request():
            client.get("/v1/search", params={"index": "demo", "q": "slow dense query", "mode": "dense"})
            finished["dense"] = time.perf_counter()

        worker = threading.Thread(target=dense_request)
        worker.start()
        time.sleep(0.3)  # the dense request is now encoding
        response = client.get("/v1/search", params={"index": "demo", "q": "where does coffee come from",
                                                      "mode": "bm25"})
        finished["bm25"] = time.perf_counter()
        worker.join()
    finally:
        encoder.encode_queries = original
    assert response.status_code == 200 and response.json()["results"]
    assert finished["bm25"] < finished["dense"] - 1.0  # answered while the encode was still running


@pytest.mark.parametrize("query, lang, langs", [
    ("the highest mountain in Africa", "en", None),          # several languages in the index
    ("the highest mountain in Africa", "en", "ar"),          # an English query against Arabic only
    ("ช้างเป็นสัตว์บกที่ใหญ่ที่สุด", "th", "th,zh"),
])
def test_the_service_hybrid_is_the_search_commands_default_hybrid(client, demo_index, query, lang, langs):
    """The web page, the API and `babelir search --mode hybrid` rank alike (language-aware z-score fusion)."""
    from babelir.retrieve.pipeline import from_mode
    from babelir.types import Query

    params = {"index": "demo", "q": query, "lang": lang, "k": 10, **({"langs": langs} if langs else {})}
    served = [r["id"] for r in client.get("/v1/search", params=params).json()["results"]]
    with Index.open(demo_index) as index:
        run = from_mode(index, "hybrid", doc_langs=langs).retrieve([Query("q", query, lang)], k=10)
    assert served == [d for d, _ in run.ranking("q")]


def test_errors_name_the_index_never_its_directory(client, demo_index):
    """A language the index does not hold: 422 naming the registered index, no filesystem path."""
    response = client.get("/v1/search", params={"index": "demo", "q": "Tesla", "langs": "fi"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "index 'demo'" in detail and "fi" in detail
    assert str(demo_index) not in detail and str(demo_index.parent) not in detail and "/" not in detail


def test_a_hit_deleted_between_the_ranking_and_the_page_is_left_out_not_a_500(client, monkeypatch):
    from babelir.serve.service import IndexService

    params = {"index": "demo", "q": "coffee", "k": 5, "mode": "dense"}
    before = [r["id"] for r in client.get("/v1/search", params=params).json()["results"]]
    gone = before[1]
    fetch = IndexService.documents
    monkeypatch.setattr(IndexService, "documents",  # as if another writer deleted it meanwhile
                        lambda self, ids: {d: v for d, v in fetch(self, ids).items() if d != gone})
    response = client.get("/v1/search", params=params)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [d for d in before if d != gone]
