"""An error nobody raised on purpose becomes a generic page with a trace id; its message never reaches the log."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from yakuba.config import write_sample
from yakuba.console.app import create_app


async def test_an_unexpected_error_answers_a_generic_page_and_logs_no_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dep = write_sample(tmp_path / "d", base_port=32000)
    app = create_app(dep, city_code="132292", certificate=None)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a value that must not be logged: 山田太郎")

    caplog.set_level(logging.ERROR, logger="yakuba.console")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
        answer = await client.get("/boom")
    assert answer.status_code == 500
    assert 'id="error-code">internal_error<' in answer.text
    assert "山田太郎" not in answer.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "unexpected RuntimeError, trace_id=" in logged
    trace_id = logged.split("trace_id=", 1)[1].split()[0]
    assert trace_id in answer.text
    assert "山田太郎" not in logged
