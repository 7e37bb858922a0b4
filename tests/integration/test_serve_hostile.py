"""Hostile and malformed requests against the HTTP API: never a 5xx, never a filesystem path, never
an unencodable answer; security headers on every response; queries with nothing to search."""

import json

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from babelir.errors import BabelirError  # noqa: E402
from babelir.index.core import Index  # noqa: E402
from babelir.io.demo import load_demo  # noqa: E402
from babelir.serve.app import create_app  # noqa: E402
from tests.conftest import run_cli  # noqa: E402

KEY = "s3cret"


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hostile") / "ix"
    with Index.create(directory) as index:
        index.add(load_demo().docs)
    return directory


@pytest.fixture(scope="module")
def read_only(directory):
    with TestClient(create_app({"demo": directory}), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def writable(tmp_path):
    with Index.create(tmp_path / "w") as index:
        index.add(load_demo().docs[:10])
    app = create_app({"demo": tmp_path / "w"}, writable=True, api_key=KEY)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def body(**fields) -> bytes:
    """A one-document body whose fields are written as given (JSON escapes such as \\ud800 stay)."""
    document = {"id": '"doc-1"', "text": '"hello world"', **fields}
    return ('{"documents": [{' + ", ".join(f'"{k}": {v}' for k, v in document.items()) + "}]}").encode()


SURROGATES = [body(text='"bad \\ud800 text"'), body(id='"id-\\udfff"'), body(title='"\\ud83d"'),
              body(group='"g\\udc00"'), body(lang='"\\ud800"'), body(text='"ok"', extra='"\\ud800"'),
              b'{"documents": "\\ud800"}', b'"\\ud800"', b'{"\\ud800": [{"id": "a", "text": "b"}]}']
BAD_BODIES = [*SURROGATES, b"", b"{", b"null", b"[]", b'{"documents": []}', b"[" * 100_000, b"{}" * 10,
              b'{"documents": [{"id": "a", "text": "\xff\xfe"}]}', "\ufeff{}".encode(), b"\x00" * 100,
              body(text=json.dumps("x" * 100_001)), body(id=json.dumps("x" * 300)), body(text="123"),
              json.dumps({"documents": [{"id": f"d{i}", "text": "x"} for i in range(1001)]}).encode(),
              body(text='"   "'), body(id='"dup"').replace(b"}]}", b'}, {"id": "dup", "text": "y"}]}')]
BAD_URLS = ["/v1/search?index=demo&q=%ED%A0%80", "/v1/search?index=demo&q=caf%E9", "/v1/search?index=%FF&q=x",
            "/v1/search?index=demo&q=x&langs=%ED%B0%80", "/v1/search?index=demo&q=x&lang=%C0%AF",
            "/v1/docs/demo/%ED%A0%80", "/v1/docs/demo/a%FFb", "/v1/search?index=demo&q=%00",
            "/v1/search?index=demo&q=%E2%80%8B", "/v1/search?index=demo&q=x&langs=fi",
            "/v1/search?index=demo&q=x&langs=xx", "/v1/search?index=demo&q=x&langs=%2C",
            "/v1/search?index=demo&q=x&lang=xx", "/v1/search?index=demo&q=x&lang=zz-ZZ",
            "/v1/search?index=../../etc&q=x", "/v1/search?index=%2Fetc%2Fpasswd&q=x", "/v1/search?index=nope&q=x",
            "/v1/search?index=demo&q=x&k=abc", "/v1/search?index=demo&q=x&k=1e9", "/v1/search?index=demo&q=x&k=NaN",
            "/v1/search?index=demo&q=x&offset=99999999999999999999999", "/v1/search?index=demo&q=x&offset=1000",
            "/v1/search?index=demo&q=x&mode=dense", "/v1/search?index=demo&q=x&mode=sparse",
            "/v1/search?index=demo&q=x&mode=%27", "/v1/search?q=x", "/v1/search?index=demo&q=" + "x" * 5000,
            "/v1/docs/demo/..%2F..%2Fetc%2Fpasswd", "/v1/docs/demo/" + "x" * 5000, "/v1/docs/nope/x",
            "/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/nope.js", "/nope",
            "/docs", "/redoc", "/v1/indexes/../../etc"]


def assert_safe(response, *directories) -> None:
    """No 5xx, no filesystem path, no traceback, a JSON reason for a 4xx, the security headers."""
    text = response.content.decode("utf-8")  # always valid UTF-8
    assert response.status_code < 500, (response.request.url, response.status_code, text)
    for directory in directories:
        for form in {str(directory), str(directory.resolve()), str(directory.parent)}:
            assert form not in text, (response.request.url, text)
    assert "Traceback" not in text and 'File "' not in text
    if response.status_code >= 400 and response.status_code != 405:
        assert response.json()["detail"], text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_sweep_of_bad_requests_never_gives_a_5xx_nor_shows_a_path(read_only, writable, directory, tmp_path):
    """Item 12 (and 11): every kind of bad request, on a read-only and on a writable server."""
    statuses = []
    for client, where, key in ((read_only, directory, None), (writable, tmp_path / "w", KEY)):
        headers = {"content-type": "application/json", **({"X-API-Key": key} if key else {})}
        for url in BAD_URLS:
            statuses.append(response := client.get(url))
            assert_safe(response, where)
        for content in BAD_BODIES:
            statuses.append(response := client.post("/v1/docs/demo", content=content, headers=headers))
            assert_safe(response, where)
        for method, url in (("PUT", "/v1/search"), ("PATCH", "/v1/docs/demo"), ("DELETE", "/v1/docs/demo/%ED%A0%80"),
                            ("DELETE", "/v1/docs/nope/x"), ("POST", "/v1/docs/nope"), ("DELETE", "/v1/docs/demo/x")):
            statuses.append(response := client.request(method, url, headers=headers))
            assert_safe(response, where)
        for wrong in ({"X-API-Key": "ÿ\u0100".encode("latin-1", "replace")}, {"X-API-Key": ""},
                      {"content-type": "text/plain"}, {}):
            statuses.append(response := client.post("/v1/docs/demo", content=body(), headers=wrong))
            assert_safe(response, where)
    assert len(statuses) > 130 and all(400 <= r.status_code < 500 for r in statuses)


@pytest.mark.parametrize("content", SURROGATES)
def test_a_lone_surrogate_in_a_body_is_a_4xx_even_read_only(read_only, content):
    """Item 11: JSON "\\ud800" anywhere in a body: a 4xx, before any other check, on a read-only server."""
    response = read_only.post("/v1/docs/demo", content=content, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert "\\ud8" not in response.text and "\\udf" not in response.text  # the input is never echoed


def test_surrogates_and_non_utf8_urls_are_refused_and_the_index_stays_writable(writable):
    """Item 11, the rest of the class: every field of an added document, ids in the URL, query parameters."""
    headers = {"content-type": "application/json", "X-API-Key": KEY}
    for content in SURROGATES[:5]:
        response = writable.post("/v1/docs/demo", content=content, headers=headers)
        assert response.status_code == 422 and response.json()["detail"][0]["type"] == "string_unicode"
    for url in ("/v1/search?index=demo&q=%ED%A0%80", "/v1/search?index=demo&q=x&langs=%ED%A0%80",
                "/v1/docs/demo/%ED%A0%80", "/v1/docs/demo/%FF"):
        response = writable.get(url)
        assert response.status_code == 400 and "not valid UTF-8" in response.json()["detail"]
    assert writable.delete("/v1/docs/demo/%ED%A0%80", headers=headers).status_code == 400
    assert writable.post("/v1/docs/demo", content=body(text='"kahawa \\ud83d\\ude00"'), headers=headers).json() \
        == {"added": 1}  # a surrogate pair is one character: fine
    assert writable.get("/v1/docs/demo/doc-1").json()["text"] == "kahawa 😀"


def test_failures_inside_the_service_answer_without_a_path(writable, tmp_path, monkeypatch):
    """Item 12: a BabelirError, an OSError and an unexpected error, each naming a file of the index."""
    service = writable.app.state.services["demo"]
    where = tmp_path / "w"
    headers = {"content-type": "application/json", "X-API-Key": KEY}
    for error, status in ((BabelirError(f"{where}/manifest.json: damaged index"), 422),
                          (OSError(28, "No space left on device", str(where / "docs.sqlite")), 503),
                          (PermissionError(13, "Permission denied", "/var/lib/babelir/x"), 503),
                          (RuntimeError(f"unexpected at {where.resolve()}/docs.sqlite-wal"), 500)):
        def fail(*args, error=error, **kwargs):
            raise error
        monkeypatch.setattr(service, "add", fail)
        monkeypatch.setattr(service, "search", fail)
        for response in (writable.post("/v1/docs/demo", content=body(id='"fresh"'), headers=headers),
                         writable.get("/v1/search", params={"index": "demo", "q": "coffee"})):
            text = response.text
            assert response.status_code == status, text
            assert str(where) not in text and "/var/lib" not in text and "docs.sqlite" not in text
            assert response.headers["x-content-type-options"] == "nosniff"
            if status == 422:
                assert response.json()["detail"] == "index 'demo': damaged index"


@pytest.mark.parametrize("q", ["\u200b\u200c\u200d", "\ufeff", "\u2060\u200e\u200f", "*" * 50, "َ ِ ُ", "\x00\x01"])
def test_a_query_with_nothing_to_search_is_a_422_in_the_api_and_exit_2_in_the_cli(read_only, directory, q):
    """Zero-width characters only (and the same class: punctuation, lone marks, controls)."""
    for mode in ("bm25", None):
        params = {"index": "demo", "q": q, **({"mode": mode} if mode else {})}
        response = read_only.get("/v1/search", params=params)
        assert response.status_code == 422 and "no searchable text" in response.json()["detail"], response.text
    if q.startswith("\u200b") or q.startswith("*"):  # the CLI says the same (one process start is enough)
        result = run_cli("search", directory, "--query", q)
        assert result.returncode == 2 and "--query has no searchable text" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert read_only.get("/v1/search", params={"index": "demo", "q": q + "coffee"}).status_code == 200


def test_security_headers_on_every_kind_of_response(read_only):
    for response in (read_only.get("/"), read_only.get("/static/app.js"), read_only.get("/health"),
                     read_only.get("/openapi.json"), read_only.get("/nope"),
                     read_only.post("/v1/docs/demo", content=b"x" * 2_000_000,
                                    headers={"content-type": "application/json"})):
        assert response.headers["x-content-type-options"] == "nosniff"
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    page = read_only.get("/").text
    assert "<script>" not in page and "cdn" not in page.lower()  # no inline or remote scripts


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/json",
                                          "multipart/form-data; boundary=x"])
def test_a_json_body_sent_as_another_type_is_a_415_naming_the_expected_type(writable, read_only, content_type):
    """Valid JSON with Content-Type: text/plain was a 422 'Input should be a valid dictionary'."""
    for client in (writable, read_only):
        response = client.post("/v1/docs/demo", content=body(id='"typed"'),
                               headers={"content-type": content_type, "X-API-Key": KEY})
        assert response.status_code == 415, response.text
        assert "Content-Type: application/json" in response.json()["detail"]
        assert_safe(response)
    for n, fine in enumerate(("application/json", "application/json; charset=utf-8", "application/vnd.api+json")):
        response = writable.post("/v1/docs/demo", content=body(id=f'"typed-{n}"'),
                                 headers={"content-type": fine, "X-API-Key": KEY})
        assert response.status_code == 201, response.text
    bad = writable.post("/v1/docs/demo", content=b"{", headers={"content-type": "application/json", "X-API-Key": KEY})
    assert bad.status_code == 422  # JSON that does not parse stays a 422


def test_the_page_asks_for_nothing_that_is_missing(read_only):
    """The browser's /favicon.ico request was a 404 in the console: no content, and every asset the page names."""
    icon = read_only.get("/favicon.ico")
    assert icon.status_code == 204 and not icon.content
    assert icon.headers["x-content-type-options"] == "nosniff"
    import re

    for asset in re.findall(r'(?:href|src)="(/[^"]*)"', read_only.get("/").text):
        assert read_only.get(asset).status_code == 200, asset


@pytest.mark.parametrize("doc_id, quoted", [("a b", "'a b'"), ('a"<script>', "'a\"<script>'")])
def test_errors_quote_the_id_they_are_about_json_escaped(read_only, doc_id, quoted):
    """An answer may name the id (or index, or language code) it is about: JSON, never raw markup."""
    from urllib.parse import quote

    response = read_only.get("/v1/docs/demo/" + quote(doc_id, safe=""))
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"] == f"no document {quoted} in index 'demo'"
    assert doc_id not in response.text or '"' not in doc_id  # a quote inside is escaped in the body
    unknown = read_only.get("/v1/search", params={"index": "demo", "q": "x", "langs": "xx"})
    assert unknown.status_code == 422 and "'xx'" in unknown.text
