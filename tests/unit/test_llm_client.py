"""The OpenAI-compatible client against a fake endpoint on 127.0.0.1 (tests/fake_llm.py)."""

import time

import pytest

from babelir.errors import BabelirError
from babelir.judge.prejudge import UMBRELA_PROMPT, parse_grade
from babelir.llm.client import LLMClient, LLMReplyError
from tests.fake_llm import FakeLLM

PROMPT = UMBRELA_PROMPT.format(query="ocean tides moon", passage="The moon causes the ocean tides.")


@pytest.fixture
def fake():
    with FakeLLM() as server:
        yield server


def client(fake, **kw):
    kw.setdefault("backoff", 0.01)
    return LLMClient(fake.url, "fake-model", **kw)


def test_ok_reply_is_parsed_and_request_is_openai_shaped(fake, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sekrit")
    with client(fake, api_key_env="MY_KEY") as llm:
        reply = llm.chat(PROMPT, max_tokens=50)
    assert reply.text.endswith("##final score: 3")
    assert parse_grade(reply.text) == 3
    assert reply.finish_reason == "stop" and reply.logprobs is None
    body = fake.requests[0]
    assert body["model"] == "fake-model" and body["max_tokens"] == 50 and body["temperature"] == 0.0
    assert body["messages"] == [{"role": "user", "content": PROMPT}]
    assert fake.headers[0]["Authorization"] == "Bearer sekrit"


def test_no_key_no_authorization_header(fake, monkeypatch):
    monkeypatch.delenv("BABELIR_LLM_API_KEY", raising=False)
    with client(fake) as llm:
        llm.chat("hi")
    assert "Authorization" not in fake.headers[0]


def test_logprobs_are_returned(fake):
    with client(fake) as llm:
        reply = llm.chat(PROMPT, logprobs=True, top_logprobs=2)
    assert fake.requests[0]["logprobs"] is True and fake.requests[0]["top_logprobs"] == 2
    assert reply.logprobs[0].token == "3" and reply.logprobs[0].logprob == pytest.approx(-0.1)
    assert reply.logprobs[0].top == {"3": -0.1, "0": -2.5}


def test_retries_after_500_and_429(fake):
    fake.plan = ["500", "429"]
    with client(fake, retries=3) as llm:
        assert parse_grade(llm.chat(PROMPT).text) == 3
    assert len(fake.requests) == 3


def test_gives_up_after_bounded_retries(fake):
    fake.default = "500"
    with client(fake, retries=2) as llm, pytest.raises(BabelirError, match=r"HTTP 500.*after 3 attempts"):
        llm.chat(PROMPT)
    assert len(fake.requests) == 3


def test_401_is_not_retried_and_names_the_variable(fake, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    fake.default = "401"
    started = time.monotonic()
    with client(fake, api_key_env="NO_SUCH_KEY_VAR", retries=5, backoff=1.0) as llm:
        with pytest.raises(BabelirError) as info:
            llm.chat(PROMPT)
    assert len(fake.requests) == 1 and time.monotonic() - started < 1.0
    message = str(info.value)
    assert "HTTP 401" in message and "$NO_SUCH_KEY_VAR is not set" in message and "\n" not in message


def test_malformed_json_is_one_line_error(fake):
    fake.plan = ["malformed"]
    with client(fake) as llm, pytest.raises(LLMReplyError) as info:
        llm.chat(PROMPT)
    assert "not JSON" in str(info.value) and "{not json" in str(info.value) and "\n" not in str(info.value)
    assert len(fake.requests) == 1  # a malformed reply is not retried


def test_reply_without_choices_names_what_is_missing(fake):
    fake.plan = ["nochoices"]
    with client(fake) as llm, pytest.raises(LLMReplyError, match=r"no choices\[0\] \(keys: id, object\)"):
        llm.chat(PROMPT)


def test_timeout_is_retried_then_fails_within_bounded_time(fake):
    fake.default, fake.delay = "slow", 1.5
    started = time.monotonic()
    with client(fake, timeout=0.3, retries=1, backoff=0.1) as llm:
        with pytest.raises(BabelirError, match=r"no reply within 0.3 s \(after 2 attempts\)"):
            llm.chat(PROMPT)
    elapsed = time.monotonic() - started
    assert len(fake.requests) == 2 and elapsed < 1.5


def test_slow_reply_then_ok_succeeds(fake):
    fake.plan, fake.delay = ["slow"], 1.0
    with client(fake, timeout=0.3, retries=2) as llm:
        assert parse_grade(llm.chat(PROMPT).text) == 3


def test_unreachable_endpoint_is_clear():
    with LLMClient("http://127.0.0.1:9/v1", "m", retries=1, backoff=0.01) as llm:
        with pytest.raises(BabelirError, match=r"cannot connect .*after 2 attempts"):
            llm.chat("hi")


def test_bad_url_refused():
    with pytest.raises(BabelirError, match="http://"):
        LLMClient("localhost:8000", "m")


@pytest.mark.parametrize("reply, grade", [
    ("##final score: 2", 2), ("M: 1\nT: 2\n##final score: 1", 1), ("Final Score: **3**", 3),
    ("##final score: 1\n##final score: 0", 0), ("2", 2), ("##final score: 4", None), ("relevant", None),
    ("##final score: 2.5", None), ("", None)])
def test_parse_grade(reply, grade):
    assert parse_grade(reply) == grade
