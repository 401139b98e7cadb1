"""Email through a real SMTP server process (aiosmtpd): delivered, or failing the way callers need."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from scripts.local_services import free_port
from services.common import config, errors, mail
from tests.mailserver import MailServer

pytestmark = pytest.mark.integration


def _settings(port: int) -> config.Settings:
    return dataclasses.replace(config.load({}), smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                               smtp_from="Collateral <noreply@collateral.test>")


def test_a_message_arrives_with_its_subject_text_html_and_stable_id(mail_server):
    settings = _settings(mail_server.port)
    mail.send(settings, mail.Mail(to="rep@example.com", subject="Acme opened Pricing deck",
                                  text="Acme opened it at 10:02.", html="<p>Acme opened it at <b>10:02</b>.</p>",
                                  message_id="<n-123@collateral>"))
    [received] = mail_server.messages(to="rep@example.com", where=lambda m: m["Message-ID"] == "<n-123@collateral>")
    assert received["Subject"] == "Acme opened Pricing deck"
    assert received["From"] == "Collateral <noreply@collateral.test>"
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in received.walk()
             if not part.is_multipart()}
    assert "Acme opened it at 10:02." in parts["text/plain"]
    assert "<b>10:02</b>" in parts["text/html"]


def test_no_server_listening_is_unavailable_so_the_caller_retries():
    with pytest.raises(errors.Unavailable):
        mail.send(_settings(free_port()), mail.Mail(to="rep@example.com", subject="s", text="t"))


def test_a_permanent_refusal_is_not_retried(tmp_path: Path):
    small = MailServer(tmp_path / "small", max_bytes=200).start()  # answers 552 to anything larger
    try:
        with pytest.raises(mail.MailRefused):
            mail.send(_settings(small.port), mail.Mail(to="rep@example.com", subject="s", text="x" * 2000))
    finally:
        small.stop()


def test_email_not_configured_is_a_clear_precondition():
    with pytest.raises(mail.MailDisabled):
        mail.send(config.load({}), mail.Mail(to="rep@example.com", subject="s", text="t"))
