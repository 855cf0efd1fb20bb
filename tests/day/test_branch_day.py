"""Issue 13 walked again: one branch day on the time-skipping test server, through the
public API, the Telegram sandbox (the customers' chats) and the staff endpoints; each
assertion fails on the behaviour the issue reported.

Customer: the branch's name once ("Sucursal Sucursal" never); the cancel prompt asks to
confirm within the time; a second chat opening a followed deep link is refused in its
own language and the first chat keeps the ticket; a chat's language is kept per chat
across tickets; the final no-show (after the one recall) and the day-end expiry send
their messages; a closed branch refuses tickets naming the next opening (in the
caller's language); a queue nobody serves says "sin ejecutivos atendiendo ahora" and
promises no time; near-instant completions neither collapse the estimate nor give a
zero-width range while someone is ahead.
Advisor: "pause after this ticket"; the recall of one's own no-show after the next was
auto-called; a second recall and a same-queue transfer are plain 409s (no Temporal
text); actions by number as well as reference; waiting counts at the desk; errors in
the caller's language; the history shows each message's delivery state and attempts.

Operator points proven elsewhere (dev server, not the time-skipping one):
- 0 ERROR lines in the daily maintenance after a busy day, live events without
  `mandatory`, SSE closed cleanly, `OpsOutcome`/`OpsKind` and the summary memo on an
  "ok" run: tests/operations/test_quiet_day.py::
  test_daily_maintenance_after_a_busy_day_ends_ok_with_no_error_lines.
- One run-id scheme: the same test (manual `maintenance-daily-…`) and
  tests/operations/test_schedules.py::test_triggered_backup_schedule_runs_to_completion
  (scheduled `backup-…`, the prefix of a manual backup).
- Schedules in `OPS_TIME_ZONE`: tests/operations/test_schedules.py::
  test_schedules_exist_once_with_their_policies.
Not covered elsewhere, checked here by `test_operator_cli_points`: `schedules trigger`
prints the run id, `schedules list` prints times in `OPS_TIME_ZONE` (not UTC), and the
triggered run's outcome (also "alert") is the `OpsOutcome` search attribute.

Long because it walks every point of the issue in one day.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from google.protobuf import duration_pb2, empty_pb2
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter

from ops.contracts import SCHEDULE_DAILY, OpsReport
from ops.search import OPS_OUTCOME
from tests.notifications.helpers import Phone, bridge_ready
from tests.support.branches import TIME_ZONE, add_branch, bootstrap_headers
from tests.support.data import chat_id, national_id, ticket_body
from tests.support.stack import REPO, Stack, start_stack, stop_stack
from tests.support.staff import Staff, add_advisor, add_user
from tests.support.wait import eventually

pytestmark = pytest.mark.e2e

TEMPORAL_WORDS = ("workflow", "update", "temporal", "activity")
SPANISH_DATE_WORDS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


class Clock:
    """The test server's clock: real time until the test makes it jump."""

    def __init__(self, client: Client) -> None:
        self._service = client.service_client.test_service

    async def jump(self, by: timedelta) -> None:
        duration = duration_pb2.Duration()
        duration.FromTimedelta(by)
        await self._service.unlock_time_skipping_with_sleep(SleepRequest(duration=duration))

    async def now(self) -> datetime:
        return (await self._service.get_current_time(empty_pb2.Empty())).time.ToDatetime()


@pytest.fixture(scope="module")
async def day(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    running = await start_stack(Path(tmp_path_factory.mktemp("branch-day")), time_skipping=True)
    try:
        yield running
    finally:
        await stop_stack(running)


@pytest.fixture(scope="module")
async def web(day: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=day.api_url, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="module")
async def engine(day: Stack) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(day.database_url)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="module")
async def phone(day: Stack) -> AsyncIterator[Phone]:
    async with httpx.AsyncClient(base_url=day.sandbox_url, timeout=30.0) as sandbox:
        await bridge_ready(sandbox)
        yield Phone(sandbox)


@pytest.fixture(scope="module")
async def clock(day: Stack) -> Clock:
    return Clock(await Client.connect(day.temporal_address))


# -- helpers -------------------------------------------------------------------------------


async def new_ticket(web: httpx.AsyncClient, branch: str, queue: str = "CAJA", **extra: Any) -> Any:
    resp = await web.post("/api/tickets", json=ticket_body(branch, queue, **extra))
    assert resp.status_code == 201, resp.text
    return resp.json()


def payload(ticket: dict[str, Any]) -> str:
    return str(ticket["telegramLink"]).split("start=", 1)[1]


async def texts_with(phone: Phone, chat: int, has: str, count: int = 1) -> list[str]:
    """The chat's messages once `count` of them contain `has`."""

    async def arrived() -> list[str] | None:
        texts = [str(m["text"]) for m in await phone.messages(chat)]
        return texts if sum(has in t for t in texts) >= count else None

    return await eventually(arrived, timeout=20, what=f"{has!r} x{count} in chat {chat}")


async def status_is(web: httpx.AsyncClient, reference: str, status: str) -> None:
    async def probe() -> bool:
        return bool((await web.get(f"/api/tickets/{reference}")).json()["status"] == status)

    await eventually(probe, timeout=20, what=f"{reference} {status}")


async def desk(web: httpx.AsyncClient, advisor: Staff) -> Any:
    resp = await web.get("/api/advisors/me", headers=advisor.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def holds(web: httpx.AsyncClient, advisor: Staff, reference: str) -> Any:
    async def probe() -> Any:
        me = await desk(web, advisor)
        held = me["ticket"]
        return (
            me if held and held["reference"] == reference and held["status"] == "CALLED" else None
        )

    return await eventually(probe, timeout=20, what=f"the advisor holding {reference}")


async def act(web: httpx.AsyncClient, advisor: Staff, ticket: str, action: str, **kw: Any) -> Any:
    resp = await web.post(f"/api/tickets/{ticket}/{action}", headers=advisor.headers, **kw)
    assert resp.status_code == 200, (action, resp.text)
    return resp.json()


async def available(web: httpx.AsyncClient, advisor: Staff) -> None:
    resp = await web.put(
        "/api/advisors/me/status", json={"status": "AVAILABLE"}, headers=advisor.headers
    )
    assert resp.status_code == 200, resp.text


def one(texts: list[str], has: str) -> str:
    """The chat's only message containing `has` (once: exactly-once effects)."""
    matching = [t for t in texts if has in t]
    assert len(matching) == 1, texts
    return matching[0]


def plain(message: str) -> None:
    assert not any(word in message.lower() for word in TEMPORAL_WORDS), message


def zone_at(local_hour: int) -> str:
    """A fixed-offset zone whose local time is now `local_hour` o'clock: branches whose day
    has just begun (the clock jumps cannot end it) or is about to end (the day-end test)."""
    now = datetime.now(UTC)
    offset = next(o for o in range(-12, 15) if (now.hour + o) % 24 == local_hour)
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


async def early_branch(web: httpx.AsyncClient, prefix: str) -> str:
    """A branch whose business day has just begun: about 23 hours left."""
    return await add_branch(web, prefix, time_zone=zone_at(1))


# -- the customer's day --------------------------------------------------------------------

#: What the first test leaves for the /estado check after the final no-show.
FINAL_NO_SHOW: dict[str, Any] = {}


async def test_a_customers_day_on_telegram(
    web: httpx.AsyncClient, engine: AsyncEngine, phone: Phone, clock: Clock
) -> None:
    branch = await early_branch(web, "Sucursal Centro")  # the name already says "Sucursal"

    # Nobody serves CAJA yet: no time is promised, in the API or on Telegram.
    mine = await new_ticket(web, branch)
    assert mine["estimatedWaitMinutes"] is None and mine["estimatedWaitRange"] is None
    assert mine["estimatedWaitReason"] == "NO_ADVISORS"
    chat = chat_id()
    await phone.start(chat, payload(mine))
    created = one(await texts_with(phone, chat, "Su turno es el"), "Su turno es el")
    assert "sin ejecutivos atendiendo ahora" in created and "0 min" not in created, created
    assert branch in created and "Sucursal Sucursal" not in created, created

    # Another chat opens the same deep link, in English: refused in English, not moved.
    other = chat_id()
    await phone.start(other, payload(mine), language="en")
    refusal = one(await texts_with(phone, other, "another chat"), "another chat")
    assert mine["number"] in refusal
    await phone.send(chat, "/estado")
    status = one(await texts_with(phone, chat, "Estado:"), "Estado:")
    assert "sin ejecutivos atendiendo ahora" in status and "entre 0 y 0" not in status, status

    # That English chat takes a ticket of its own at the kiosk (chat id given, no language
    # asked): its messages are in English, the language the chat said it reads.
    kiosk = await new_ticket(web, branch, "EMPRESAS", telegramChatId=other)
    english = one(await texts_with(phone, other, "Your ticket is"), "Your ticket is")
    assert kiosk["number"] in english and "no advisors serving now" in english, english

    # Called and absent: the no-show timer fires (the clock jumps) and says so, once.
    teller = await add_advisor(engine, web, branch, desk=4, queues=["CAJA"])
    await available(web, teller)
    await holds(web, teller, mine["reference"])
    await texts_with(phone, chat, "módulo 4")
    await clock.jump(timedelta(minutes=5, seconds=5))
    await status_is(web, mine["reference"], "NO_SHOW")
    one(await texts_with(phone, chat, "no se presentó en el módulo"), "no se presentó")
    # Recalled after the day end below (the test server's clock cannot jump once a ticket
    # with a chat has ended: see the last test).
    FINAL_NO_SHOW.update(chat=chat, ticket=mine, teller=teller)


# -- the advisor's day ---------------------------------------------------------------------


async def test_an_advisors_day(web: httpx.AsyncClient, engine: AsyncEngine, day: Stack) -> None:
    branch = await early_branch(web, "Sucursal Norte")
    teller = await add_advisor(engine, web, branch, desk=2, queues=["CAJA"])
    first, second, third = [await new_ticket(web, branch) for _ in range(3)]
    await new_ticket(web, branch, "EMPRESAS")

    # Advisors see how many wait, per queue of the branch.
    waiting = {w["queue"]: w["waiting"] for w in (await desk(web, teller))["waiting"]}
    assert waiting["CAJA"] == 3 and waiting["EMPRESAS"] == 1, waiting

    # "Pause after this ticket": served by number, then the break instead of the next call.
    await available(web, teller)
    await holds(web, teller, first["reference"])
    paused = await web.put(
        "/api/advisors/me/after-ticket", json={"status": "BREAK"}, headers=teller.headers
    )
    assert paused.status_code == 200 and paused.json()["pendingStatus"] == "BREAK", paused.text
    assert (await act(web, teller, first["number"], "start"))["status"] == "IN_SERVICE"
    assert (await act(web, teller, first["number"], "complete"))["status"] == "COMPLETED"

    async def on_break() -> bool:
        return bool((await desk(web, teller))["status"] == "BREAK")

    await eventually(on_break, timeout=20, what="the break taken after the ticket")
    temporal = await Client.connect(day.temporal_address)
    done = temporal.get_workflow_handle(f"ticket-{first['reference']}")

    async def closed() -> bool:  # its after-change step (the would-be next call) is over
        return (await done.describe()).status != WorkflowExecutionStatus.RUNNING

    await eventually(closed, timeout=20, what="the completed ticket's workflow closed")
    assert (await web.get(f"/api/tickets/{second['reference']}")).json()["status"] == "WAITING"

    # A no-show, the next one auto-called, and the advisor recalls their own no-show.
    await available(web, teller)
    await holds(web, teller, second["reference"])
    await act(web, teller, second["reference"], "no-show")
    await holds(web, teller, third["reference"])
    recalled = await act(web, teller, second["number"], "recall")
    assert recalled["status"] == "CALLED" and recalled["reference"] == second["reference"]
    await status_is(web, third["reference"], "WAITING")

    # A transfer to the queue the ticket is in: a plain 409, in the caller's language.
    for language, words in (("es", "ya está en la fila"), ("en", "already in the CAJA queue")):
        same = await web.post(
            f"/api/tickets/{second['number']}/transfer",
            json={"queue": "CAJA"},
            headers={**teller.headers, "Accept-Language": language},
        )
        assert same.status_code == 409 and words in same.json()["message"], same.text
        plain(same.json()["message"])

    # Absent again after the recall: a second recall is a plain 409, es by default, en asked.
    await act(web, teller, second["reference"], "no-show")
    again = await web.post(f"/api/tickets/{second['reference']}/recall", headers=teller.headers)
    assert again.status_code == 409, again.text
    assert "ya fue llamado nuevamente una vez" in again.json()["message"]
    plain(again.json()["message"])
    english = await web.post(
        f"/api/tickets/{second['reference']}/recall",
        headers={**teller.headers, "Accept-Language": "en-US,en;q=0.9"},
    )
    assert english.status_code == 409 and "already called back once" in english.json()["message"]
    plain(english.json()["message"])


# -- estimates and hours -------------------------------------------------------------------


async def test_estimates_stay_honest_after_near_instant_completions(
    web: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    branch = await early_branch(web, "Sucursal Sur")
    teller = await add_advisor(engine, web, branch, desk=1, queues=["CAJA"])
    tickets = [await new_ticket(web, branch) for _ in range(4)]
    await available(web, teller)
    for ticket in tickets[:3]:  # three services of a second or so each
        await holds(web, teller, ticket["reference"])
        await act(web, teller, ticket["reference"], "start")
        await act(web, teller, ticket["reference"], "complete")
    await holds(web, teller, tickets[3]["reference"])
    behind = [await new_ticket(web, branch) for _ in range(2)]
    last = behind[-1]
    assert last["ticketsAhead"] == 1
    # One ahead, one busy teller, CAJA's 5 minutes: about two services (the reported
    # collapse quoted ~5 and "0 min (0–0)").
    assert last["estimatedWaitMinutes"] >= 9, last
    low, high = last["estimatedWaitRange"]["low"], last["estimatedWaitRange"]["high"]
    assert low <= last["estimatedWaitMinutes"] <= high and high > low, last

    # A queue nobody serves: no figure at all.
    business = await new_ticket(web, branch, "EMPRESAS")
    assert business["estimatedWaitMinutes"] is None
    assert business["estimatedWaitReason"] == "NO_ADVISORS"


async def test_a_closed_branch_names_the_next_opening_in_the_callers_language(
    web: httpx.AsyncClient,
) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo(TIME_ZONE)).date()
    name = f"Sucursal Cerrada {national_id()}"
    every_day = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
    registered = await web.post(
        "/api/branches",
        json={
            "name": name,
            "timeZone": TIME_ZONE,
            "weeklyHours": [{"weekday": d, "opens": "09:00", "closes": "14:00"} for d in every_day],
            "holidays": [
                {"day": (today + timedelta(days=n)).isoformat(), "name": "Feriado"} for n in (0, 1)
            ],
        },
        headers=await bootstrap_headers(web),
    )
    assert registered.status_code == 201, registered.text
    opens_on: date = today + timedelta(days=2)
    body = {"nationalId": national_id(), "branchOffice": name, "queue": "CAJA"}

    spanish = await web.post("/api/tickets", json=body)
    assert spanish.status_code == 409, spanish.text
    assert datetime.fromisoformat(spanish.json()["nextOpening"]).date() == opens_on
    message = spanish.json()["message"]
    assert "está cerrada" in message and SPANISH_DATE_WORDS[opens_on.weekday()] in message
    assert "a las 09:00" in message, message

    english = await web.post("/api/tickets", json=body, headers={"Accept-Language": "en"})
    assert english.status_code == 409, english.text
    message = english.json()["message"]
    assert "is closed" in message and opens_on.strftime("%A") in message, message
    assert "at 09:00" in message
    assert not any(word in message for word in SPANISH_DATE_WORDS), message
    assert " de " not in message and "las" not in message, message


# -- day end (last: the clock jumps past the branch's closing) -------------------------------


async def test_day_end_then_the_final_no_show_and_a_cancel_from_telegram(
    web: httpx.AsyncClient, engine: AsyncEngine, phone: Phone, clock: Clock
) -> None:
    # A branch whose day ends within two hours: what is open at its closing expires.
    closing = await add_branch(web, "Sucursal Poniente", time_zone=zone_at(22))
    chat = chat_id()
    late = await new_ticket(web, closing, "GERENCIA", telegramChatId=chat)
    await texts_with(phone, chat, "Su turno es el")
    expires = datetime.fromisoformat(late["expiresAt"]).replace(tzinfo=None)
    await clock.jump(expires - await clock.now() + timedelta(minutes=1))
    await status_is(web, late["reference"], "EXPIRED")
    marker = "venció al cierre de la jornada"
    expired = one(await texts_with(phone, chat, marker), marker)
    assert late["number"] in expired and expired.count("Sucursal") == 1, expired

    # No clock jump after this point: the time-skipping test server stops skipping once a
    # ticket with a chat has ended (its workflow closes beside the abandoned child workflow
    # of its last message; cf. temporalio/sdk-java#1138, #2392).

    # The first customer's no-show is recalled once; absent again (the advisor marks it):
    # the final no-show sends its own message.
    mine, teller = FINAL_NO_SHOW["ticket"], FINAL_NO_SHOW["teller"]
    await act(web, teller, mine["reference"], "recall")
    await texts_with(phone, FINAL_NO_SHOW["chat"], "Llamamos nuevamente su turno")
    await act(web, teller, mine["number"], "no-show")
    texts = await texts_with(phone, FINAL_NO_SHOW["chat"], "su turno terminó")
    assert sum("su turno terminó" in t for t in texts) == 1, texts
    assert not any("Sucursal Sucursal" in t for t in texts), texts

    # The ticket's history shows each message's delivery state and attempts.
    supervisor = await add_user(engine, web, "supervisor")
    expected = {"TICKET_CREATED", "YOUR_TURN", "NO_SHOW", "RECALLED", "NO_SHOW_FINAL"}

    async def delivered() -> Any:
        resp = await web.get(
            f"/api/tickets/{mine['reference']}/history", headers=supervisor.headers
        )
        messages = resp.json()["messages"]
        sent = {m["type"] for m in messages if m["state"] == "SENT"}
        return messages if expected <= sent else None

    messages = await eventually(delivered, timeout=20, what="the messages recorded as sent")
    assert all(m["attempts"] >= 1 and m["sentAt"] for m in messages), messages

    # The cancel prompt asks to confirm within the time (not "cancelled in 5 minutes").
    leaving = await new_ticket(web, await early_branch(web, "Sucursal Oriente"), "PERSONAL_BANKER")
    quitter = chat_id()
    await phone.start(quitter, payload(leaving))
    await texts_with(phone, quitter, "Su turno es el")
    await phone.send(quitter, "/cancelar")
    prompt = one(await texts_with(phone, quitter, "/confirmar"), "/confirmar")
    assert "responda /confirmar en los próximos 5 minutos" in prompt, prompt
    assert "dentro de 5 minutos" not in prompt
    await phone.send(quitter, "/confirmar")
    cancelled = one(await texts_with(phone, quitter, "fue anulado"), "fue anulado")
    assert cancelled.count("Sucursal") == 1, cancelled
    await status_is(web, leaving["reference"], "CANCELLED")


# -- operator points no other test covers (the session's dev-server stack) -----------------


async def _cli(stack: Stack, *args: str) -> tuple[int, str]:
    env = {**os.environ, **stack.env, "PUBLIC_BASE_URL": stack.api_url}
    proc = await asyncio.create_subprocess_exec(
        str(REPO / ".venv" / "bin" / "ticketero"),
        *args,
        cwd=str(REPO),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return int(proc.returncode or 0), out.decode()


async def test_operator_cli_points(stack: Stack) -> None:
    async def listed() -> str | None:  # the ops worker registers them as it starts
        code, out = await _cli(stack, "schedules", "list")
        assert code == 0, out
        lines = [line for line in out.splitlines() if line.startswith(SCHEDULE_DAILY)]
        return lines[0] if lines else None

    daily = await eventually(listed, timeout=30, interval=1.0, what="the daily schedule listed")
    # 03:00 in OPS_TIME_ZONE (America/Santiago in the stack), not 06:00/07:00 UTC.
    assert " 03:00:00 " in daily and "+00:00" not in daily, daily

    code, out = await _cli(stack, "schedules", "trigger", SCHEDULE_DAILY)
    assert code == 0, out
    found = re.search(r"^run (maintenance-daily-\S+)$", out, re.MULTILINE)
    assert found, out  # the run id, with the prefix of a manual run
    temporal = await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
    handle = temporal.get_workflow_handle(found.group(1), result_type=OpsReport)
    report = await asyncio.wait_for(handle.result(), 60)
    described = await handle.describe()
    # Temporal shows COMPLETED either way; the outcome ("alert" too) is searchable.
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert described.typed_search_attributes.get(OPS_OUTCOME) == report.outcome, report
    assert report.outcome in ("ok", "alert")


async def test_estado_after_the_final_no_show_says_the_ticket_ended(phone: Phone) -> None:
    chat = FINAL_NO_SHOW["chat"]
    await phone.send(chat, "/estado")
    reply = await eventually(
        lambda: _last_text_after(phone, chat, "su turno terminó"),
        timeout=20,
        what="the /estado reply",
    )
    assert FINAL_NO_SHOW["ticket"]["number"] in reply and "no se presentó" in reply, reply


async def _last_text_after(phone: Phone, chat: int, marker: str) -> str | None:
    texts = [str(m["text"]) for m in await phone.messages(chat)]
    after = [i for i, t in enumerate(texts) if marker in t]
    return texts[-1] if after and after[-1] < len(texts) - 1 else None
