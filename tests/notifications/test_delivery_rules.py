"""How each Bot API answer is classified, and what the inline retries do with it."""

from __future__ import annotations

import httpx
import pytest

from bridge.delivery import Deliverer
from bridge.limiter import GlobalLimiter, SendLimiter
from messaging.telegram import (
    BotApiError,
    Failure,
    Permanent,
    RetryLater,
    SendResult,
    Sent,
    TelegramClient,
    classify,
)
from tests.notifications.fakes import FakeClock

TOKEN = "123456:SECRET-token_value"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"ok": True, "result": {"message_id": 42}}, Sent(42)),
        (
            429,
            {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
             "parameters": {"retry_after": 7}},
            RetryLater("rate_limited", "Too Many Requests: retry after 7", 7.0),
        ),
        (429, {"ok": False}, RetryLater("rate_limited", "Bad Gateway", 1.0)),
        (500, {"ok": False, "description": "Internal"}, RetryLater("server_error", "500 Internal")),
        (502, {}, RetryLater("server_error", "502 Bad Gateway")),
        (200, {"ok": False}, RetryLater("server_error", "200 Bad Gateway")),
        (403, {"description": "Forbidden: bot was blocked by the user"},
         Permanent("forbidden", "Forbidden: bot was blocked by the user")),
        (400, {"description": "Bad Request: chat not found"},
         Permanent("bad_request", "400 Bad Request: chat not found")),
        (401, {"description": "Unauthorized"}, Permanent("bad_request", "401 Unauthorized")),
        (404, {}, Permanent("bad_request", "404 Bad Gateway")),
    ],
)  # fmt: skip
def test_classification(status: int, body: dict[str, object], expected: SendResult) -> None:
    assert classify(status, body, "Bad Gateway") == expected


def client_raising(exc: Exception) -> TelegramClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return TelegramClient("https://telegram.example", TOKEN, http)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (httpx.ReadTimeout("timed out"), "timeout"),
        (httpx.ConnectTimeout("timed out"), "timeout"),
        (httpx.ConnectError("refused"), "unreachable"),
        (httpx.RemoteProtocolError("closed"), "unreachable"),
    ],
)
async def test_transport_failures_are_retryable_and_never_show_the_token(
    exc: Exception, reason: str
) -> None:
    result = await client_raising(exc).send_message(1, "hola")
    assert isinstance(result, RetryLater) and result.reason == reason
    assert "SECRET" not in repr(result)
    with pytest.raises(BotApiError) as raised:
        await client_raising(exc).call("getUpdates", {})
    assert raised.value.reason == reason
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert "SECRET" not in str(raised.value)


class ScriptedTelegram:
    """Answers sendMessage from a script; records when each call happened."""

    def __init__(self, clock: FakeClock, script: list[SendResult]) -> None:
        self.clock = clock
        self.script = script
        self.calls: list[float] = []

    async def send_message(self, chat_id: int, text: str, parse_mode: str = "HTML") -> SendResult:
        self.calls.append(self.clock.now)
        return self.script.pop(0)


async def deliver(script: list[SendResult]) -> tuple[SendResult, ScriptedTelegram, list[Failure]]:
    clock = FakeClock()
    telegram = ScriptedTelegram(clock, script)
    limiter = SendLimiter(GlobalLimiter(clock=clock, sleep=clock.sleep), clock=clock,
                          sleep=clock.sleep)  # fmt: skip
    failures: list[Failure] = []

    async def record(failure: Failure) -> None:
        failures.append(failure)

    deliverer = Deliverer(telegram, limiter, sleep=clock.sleep)
    [result] = await clock.run(deliverer.deliver(7, "hola", on_failure=record))
    return result, telegram, failures


SERVER = RetryLater("server_error", "500")
LIMITED = RetryLater("rate_limited", "slow down", 2.0)


async def test_two_server_errors_then_success_retries_quickly() -> None:
    result, telegram, failures = await deliver([SERVER, SERVER, Sent(1)])
    assert result == Sent(1)
    assert telegram.calls == pytest.approx([0.0, 1.0, 2.0])  # 0.5 s and 1 s, spaced ≥ 1 s/chat
    assert [f.reason for f in failures] == ["server_error", "server_error"]


async def test_three_server_errors_hand_the_retry_to_the_workflow() -> None:
    result, telegram, failures = await deliver([SERVER, SERVER, SERVER, Sent(1)])
    assert result == SERVER
    assert len(telegram.calls) == 3 and len(failures) == 3


async def test_429_waits_retry_after_and_retries_the_same_message() -> None:
    result, telegram, _ = await deliver([LIMITED, Sent(5)])
    assert result == Sent(5)
    assert telegram.calls == pytest.approx([0.0, 2.0])


async def test_429_more_than_three_times_reports_retry_with_retry_after() -> None:
    result, telegram, failures = await deliver([LIMITED] * 5)
    assert result == LIMITED and isinstance(result, RetryLater) and result.retry_after == 2.0
    assert len(telegram.calls) == 4 and len(failures) == 4


async def test_429_pause_is_capped_at_a_minute() -> None:
    result, telegram, _ = await deliver([RetryLater("rate_limited", "x", 600.0), Sent(1)])
    assert result == Sent(1)
    assert telegram.calls[1] == pytest.approx(60.0)


@pytest.mark.parametrize(
    "failure", [Permanent("forbidden", "blocked"), Permanent("bad_request", "x")]
)
async def test_4xx_fails_at_once(failure: Permanent) -> None:
    result, telegram, failures = await deliver([failure, Sent(1)])
    assert result == failure
    assert len(telegram.calls) == 1 and failures == [failure]
