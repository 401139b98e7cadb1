"""Customer-open notifications in the portal: the bell's unread count, the list, read marks, the settings form.

The bell is filled by static/notifications.js from `/notifications/unread.json` (on load,
every 15 seconds while the tab is visible, and when it regains focus), so no page waits
for the count and it changes without a reload. The settings form lives on the account page.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from collateral.v1 import usage_pb2
from services.portal import helpers, opportunities
from services.portal.security import login_required, rpc

log = logging.getLogger(__name__)
bp = Blueprint("notify", __name__)

DELIVERY_CHOICES = {"immediate": usage_pb2.NOTIFICATION_DELIVERY_IMMEDIATE,
                    "digest": usage_pb2.NOTIFICATION_DELIVERY_DAILY_DIGEST}
FORMAT_CHOICES = {"slack": usage_pb2.WEBHOOK_FORMAT_SLACK, "teams": usage_pb2.WEBHOOK_FORMAT_TEAMS}
MAX_MARK = 100


@bp.get("/notifications")
@login_required
def notifications() -> Any:
    reply = rpc("usage", "ListNotifications", usage_pb2.ListNotificationsRequest(
        page_size=helpers.int_arg("page_size", 25, 1, 100), page_token=request.args.get("page_token", "")[:2000],
        unread_only=request.args.get("unread") == "1"))
    items = list(reply.notifications)
    return render_template("notifications.html", items=items, unread=reply.unread_count,
                           next_token=reply.next_page_token, unread_only=request.args.get("unread") == "1",
                           deal_names=opportunities.deal_names((n.opportunity_id for n in items),
                                                               (n.account_id for n in items)),
                           usage_pb2=usage_pb2)


@bp.get("/notifications/unread.json")
@login_required
def unread() -> Any:
    """The bell's count; `null` when the usage service cannot answer (the bell then shows nothing)."""
    try:
        reply = rpc("usage", "ListNotifications", usage_pb2.ListNotificationsRequest(page_size=1, unread_only=True),
                    timeout=3.0)
    except grpc.RpcError as exc:
        log.info("unread count unavailable", extra={"code": exc.code().name})
        return jsonify(unread=None)
    response = jsonify(unread=reply.unread_count)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/notifications/read")
@login_required
def mark_read() -> Any:
    ids = [i for i in request.form.getlist("notification_id") if helpers.ID_RE.match(i)][:MAX_MARK]
    every = request.form.get("all") == "1"
    if not ids and not every:
        abort(400)
    reply = rpc("usage", "MarkNotificationsRead", usage_pb2.MarkNotificationsReadRequest(notification_ids=ids,
                                                                                           all=every))
    flash(f"{reply.marked} notification{'s' if reply.marked != 1 else ''} marked read.", "ok")
    return redirect(url_for("notify.notifications"))


@bp.post("/account/notifications")
@login_required
def save_settings() -> Any:
    form = request.form
    email_delivery = DELIVERY_CHOICES.get(form.get("email_delivery", "immediate"))
    webhook_delivery = DELIVERY_CHOICES.get(form.get("webhook_delivery", "immediate"))
    webhook_format = FORMAT_CHOICES.get(form.get("webhook_format", "slack"))
    if email_delivery is None or webhook_delivery is None or webhook_format is None:
        abort(400)
    wanted = usage_pb2.NotificationSettings(
        portal_enabled=form.get("portal_enabled") == "on", email_enabled=form.get("email_enabled") == "on",
        email=(form.get("email") or "").strip()[:254], email_delivery=email_delivery,
        webhook_enabled=form.get("webhook_enabled") == "on", webhook_url=(form.get("webhook_url") or "").strip()[:2048],
        webhook_format=webhook_format, webhook_delivery=webhook_delivery)
    try:
        rpc("usage", "UpdateNotificationSettings", usage_pb2.UpdateNotificationSettingsRequest(settings=wanted))
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc):
            errors = helpers.violations(exc, lambda field: field.removeprefix("settings."))
            return render_template("account.html", notify_errors=errors, notify_form=wanted), 400
        raise
    flash("Notification settings saved.", "ok")
    return redirect(url_for("core.account") + "#notifications")


def current_settings() -> usage_pb2.NotificationSettings | None:
    """The signed-in user's settings for the account page; None when the usage service cannot answer."""
    try:
        return rpc("usage", "GetNotificationSettings", usage_pb2.GetNotificationSettingsRequest(), timeout=3.0).settings
    except grpc.RpcError as exc:
        log.info("notification settings unavailable", extra={"code": exc.code().name})
        return None


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    """`notification_settings()` for the account page (called only where the page asks for it)."""
    return {"notification_settings": current_settings if getattr(g, "user", None) else (lambda: None),
            "notification_delivery_names": {v: k for k, v in DELIVERY_CHOICES.items()},
            "notification_format_names": {v: k for k, v in FORMAT_CHOICES.items()}}
