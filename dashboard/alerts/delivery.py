"""Sending an alert: a JSON POST to a webhook and an e-mail through SMTP, each retried with exponential backoff.

Webhook: ``POST <url>`` with the alert as JSON, ``X-Arogya-Alert-Id`` (receivers can drop repeats: a retry after a
lost reply sends the same alert again) and, when a secret is set, ``X-Arogya-Signature: sha256=<HMAC of the body>``.
Connection errors, timeouts, HTTP 5xx and 429 are retried; another 4xx is a configuration problem and is not.
E-mail: plain text in English and Hindi, via SMTP (STARTTLS or SSL and login when configured); connection and
temporary SMTP errors are retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import requests

log = logging.getLogger(__name__)

CHANNELS: tuple[str, ...] = ("webhook", "email")


@dataclass(frozen=True)
class DeliveryConfig:
    """Where alerts go. ``from_settings`` reads the ``alert_*``/``smtp_*`` settings when the settings object has them
    (AROGYA_ALERT_WEBHOOK_URL, AROGYA_ALERT_WEBHOOK_SECRET, AROGYA_ALERT_EMAIL_TO, AROGYA_SMTP_HOST, AROGYA_SMTP_PORT,
    AROGYA_SMTP_USER, AROGYA_SMTP_PASSWORD, AROGYA_SMTP_FROM, AROGYA_SMTP_SECURITY, AROGYA_PUBLIC_URL)."""

    webhook_url: str = ""
    webhook_secret: str = ""
    email_to: tuple[str, ...] = ()
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "arogya-alerts@localhost"
    smtp_security: str = "none"  # none | starttls | ssl
    public_url: str = ""  # the dashboard's address, for links in alerts
    timeout_s: float = 5.0
    retries: int = 3  # retries after the first attempt, per channel and delivery round
    backoff_s: float = 0.5

    @classmethod
    def from_settings(cls, settings: object) -> DeliveryConfig:
        def get(name: str, default: Any) -> Any:
            value = getattr(settings, name, default)
            return default if value in (None, "") else value

        to = get("alert_email_to", "")
        return cls(
            webhook_url=str(get("alert_webhook_url", "")),
            webhook_secret=str(get("alert_webhook_secret", "")),
            email_to=tuple(a.strip() for a in (to.split(",") if isinstance(to, str) else to) if a.strip()),
            smtp_host=str(get("smtp_host", "")),
            smtp_port=int(get("smtp_port", 25)),
            smtp_user=str(get("smtp_user", "")),
            smtp_password=str(get("smtp_password", "")),
            smtp_from=str(get("smtp_from", "arogya-alerts@localhost")),
            smtp_security=str(get("smtp_security", "none")).lower(),
            public_url=str(get("public_url", "")).rstrip("/"),
        )

    @property
    def channels(self) -> tuple[str, ...]:
        """The configured channels."""
        out = []
        if self.webhook_url:
            out.append("webhook")
        if self.smtp_host and self.email_to:
            out.append("email")
        return tuple(out)


@dataclass
class DeliveryResult:
    sent: dict[str, bool] = field(default_factory=dict)  # channel -> delivered in this round
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(self.sent.values())


class Delivery:
    def __init__(self, config: DeliveryConfig, sleep: Callable[[float], None] = time.sleep,
                 session: requests.Session | None = None) -> None:
        self.config = config
        self.sleep = sleep
        self.session = session or requests.Session()

    def send(self, payload: dict[str, Any], channels: tuple[str, ...] | None = None) -> DeliveryResult:
        """Send ``payload`` on ``channels`` (default: every configured one), each retried on its own."""
        result = DeliveryResult()
        for channel in channels if channels is not None else self.config.channels:
            send = self._webhook if channel == "webhook" else self._email
            ok, error = self._with_retries(channel, lambda send=send: send(payload))
            result.sent[channel] = ok
            if error:
                result.errors[channel] = error
        return result

    def _with_retries(self, channel: str, attempt: Callable[[], None]) -> tuple[bool, str]:
        delay = self.config.backoff_s
        last = ""
        for n in range(self.config.retries + 1):
            try:
                attempt()
                return True, ""
            except _Permanent as exc:
                log.warning("alert %s delivery failed (not retried): %s", channel, exc)
                return False, str(exc)
            except Exception as exc:  # noqa: BLE001 - every other failure is retried
                last = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("alert %s delivery attempt %s failed: %s", channel, n + 1, last)
            if n < self.config.retries:
                self.sleep(delay)
                delay *= 2
        return False, last

    def _webhook(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Arogya-Alerts/1",
                   "X-Arogya-Alert-Id": str(payload.get("alert_id", ""))}
        if self.config.webhook_secret:
            digest = hmac.new(self.config.webhook_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
            headers["X-Arogya-Signature"] = f"sha256={digest}"
        reply = self.session.post(self.config.webhook_url, data=body, headers=headers, timeout=self.config.timeout_s)
        if reply.status_code >= 500 or reply.status_code == 429:
            raise RuntimeError(f"webhook answered HTTP {reply.status_code}")
        if reply.status_code >= 400:
            raise _Permanent(f"webhook answered HTTP {reply.status_code}: {reply.text[:200]}")

    def _email(self, payload: dict[str, Any]) -> None:
        c = self.config
        message = EmailMessage()
        message["Subject"] = f"[Arogya] {payload.get('message', 'alert')}"[:200]
        message["From"] = c.smtp_from
        message["To"] = ", ".join(c.email_to)
        message["X-Arogya-Alert-Id"] = str(payload.get("alert_id", ""))
        message.set_content(email_text(payload))
        smtp_class = smtplib.SMTP_SSL if c.smtp_security == "ssl" else smtplib.SMTP
        kwargs: dict[str, Any] = {"timeout": c.timeout_s}
        if c.smtp_security == "ssl":
            kwargs["context"] = ssl.create_default_context()
        try:
            with smtp_class(c.smtp_host, c.smtp_port, **kwargs) as smtp:
                if c.smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if c.smtp_user:
                    smtp.login(c.smtp_user, c.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise _Permanent(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
            raise


class _Permanent(Exception):
    """A failure that a retry cannot fix (HTTP 4xx, SMTP 5xx)."""


def email_text(payload: dict[str, Any]) -> str:
    from dashboard.alerts.texts import alert_text

    lines = [alert_text(payload, "en"), "", alert_text(payload, "hi"), ""]
    lines.append(f"Raised at / समय: {payload.get('raised_at', '')}")
    if payload.get("url"):
        lines.append(f"Live board / लाइव बोर्ड: {payload['url']}")
    lines.append(f"Alert id: {payload.get('alert_id', '')}")
    return "\n".join(lines) + "\n"
