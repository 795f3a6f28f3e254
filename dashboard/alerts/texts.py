"""An alert in words, in English or Hindi, from its kind and details (the stored message is English only)."""

from __future__ import annotations

from typing import Any

from dashboard.i18n import format_indian, t


def alert_text(alert: dict[str, Any], lang: str) -> str:
    kind = alert.get("kind", "")
    details = alert.get("details") or {}
    name = details.get("name") or alert.get("facility_id") or alert.get("district_lgd") or ""
    if kind == "hub_offline":
        reason = details.get("reason", "silent")
        key = {"outage": "alert.hub_offline.outage", "never": "alert.hub_offline.never"}.get(
            reason, "alert.hub_offline.silent")
        return t(key, lang, name=name, id=alert.get("facility_id") or "", minutes=format_indian(details.get("minutes")))
    if kind == "queue_high":
        return t("alert.queue_high", lang, name=name, id=alert.get("facility_id") or "",
                 queue=format_indian(details.get("queue")), threshold=format_indian(details.get("threshold")))
    if kind == "district_no_hub":
        return t("alert.district_no_hub", lang, name=name, idle=format_indian(details.get("idle", 0)),
                 offline=format_indian(details.get("offline", 0)))
    return str(alert.get("message", ""))
