"""Email over SMTP: one place that builds the message, secures the connection and classifies failures.

Notifications and one-time sign-in codes both send mail through `send`. Failures are
split the way the consumer loop needs them: a server that cannot be reached, times out,
or answers with a temporary (4xx) code is `errors.Unavailable` (the caller retries later,
nothing is lost), while a permanent refusal of the message (5xx: unknown recipient,
rejected sender) is `MailRefused`, which retrying would never fix.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from services.common import config, errors


class MailDisabled(errors.FailedPrecondition):
    """No SMTP server is configured (COLLATERAL_SMTP_HOST is empty)."""


class MailRefused(Exception):
    """The SMTP server refused the message for good (a 5xx answer)."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    message_id: str | None = None  # stable id of what is sent (a retried send keeps it: receivers can deduplicate)


def enabled(settings: config.Settings) -> bool:
    return bool(settings.smtp_host)


def build(settings: config.Settings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = mail.message_id or make_msgid(domain="collateral")
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def send(settings: config.Settings, mail: Mail) -> None:
    """Send one message; raises MailDisabled, errors.Unavailable (retry later) or MailRefused (never retry)."""
    if not enabled(settings):
        raise MailDisabled("email is not configured (set COLLATERAL_SMTP_HOST)")
    message = build(settings, mail)
    try:
        with _connect(settings) as smtp:
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(400 <= code < 500 for code in codes):
            raise errors.Unavailable(f"SMTP server deferred {mail.to}: {exc.recipients}") from exc
        raise MailRefused(f"SMTP server refused {mail.to}: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise errors.Unavailable(f"SMTP server answered {exc.smtp_code}: {exc.smtp_error!r}") from exc
        raise MailRefused(f"SMTP server answered {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except (OSError, smtplib.SMTPException) as exc:  # connection refused, timeout, TLS failure, disconnect
        raise errors.Unavailable(f"SMTP server {settings.smtp_host}:{settings.smtp_port} unavailable: {exc}") from exc


def _connect(settings: config.Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.smtp_security == "ssl":
        return smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s, context=context)
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
    try:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
    except BaseException:
        smtp.close()
        raise
    return smtp
