"""Operations reports: stored in `ops_run` (counting alerts once) and sent to operators.

Reading them back is `ops.runs.recent_runs` / `ops.runs.get_run`.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from messaging.telegram import Permanent, RetryLater, Sent, TelegramClient
from ops import runs
from ops.contracts import ALERT_REFUSED, REPORT_NOTIFY, REPORT_STORE, OpsReport, Step
from settings import Settings

_ICON = {"alert": "⚠️", "failed": "❌", "rolled_back": "↩️", "ok": "✅"}


def alert_text(report: OpsReport) -> str:
    """The Telegram message (HTML): what ran, how it ended, and the steps needing a look."""
    lines = [
        f"{_ICON.get(report.outcome, '')} <b>Ticketero {html.escape(report.kind)}:"
        f" {html.escape(report.outcome)}</b>",
        html.escape(report.summary),
    ]
    for step in report.steps:
        if step.outcome in ("alert", "failed", "compensated"):
            lines.append(f"• {html.escape(step.name)}: {html.escape(step.detail)[:300]}")
    lines.append(f"<code>{html.escape(report.workflow_id)}</code>")
    return "\n".join(lines)[:4000]


class OpsReportActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    @activity.defn(name=REPORT_STORE)
    async def store(self, report: OpsReport) -> bool:
        """Upsert the run's report by workflow id; alert counters move on first store only."""
        return await runs.store_report(self._engine, report)

    @activity.defn(name=REPORT_NOTIFY)
    async def notify(self, report: OpsReport) -> Step:
        """Tell the operators' chat about a run that needs them (when one is configured)."""
        started = datetime.now(UTC)
        chat = self._settings.ops_alert_chat_id
        if chat is None:
            return Step(
                name="notify",
                outcome="skipped",
                detail="no ops_alert_chat_id",
                started_at=started,
                finished_at=datetime.now(UTC),
            )
        async with httpx.AsyncClient(timeout=self._settings.telegram_timeout_seconds) as http:
            cfg = self._settings
            client = TelegramClient(cfg.telegram_base, cfg.telegram_token, http)
            result = await client.send_message(chat, alert_text(report))
        if isinstance(result, RetryLater):
            delay = timedelta(seconds=result.retry_after) if result.retry_after else None
            raise ApplicationError(
                f"Telegram: {result.reason} {result.detail}", next_retry_delay=delay
            )
        if isinstance(result, Permanent):
            raise ApplicationError(
                f"Telegram refused the alert: {result.reason} {result.detail}",
                type=ALERT_REFUSED,
                non_retryable=True,
            )
        assert isinstance(result, Sent)
        return Step(
            name="notify",
            outcome="ok",
            detail=f"alert sent to chat {chat}",
            figures={"telegram_message_id": result.message_id},
            started_at=started,
            finished_at=datetime.now(UTC),
        )
