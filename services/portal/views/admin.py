"""Admin pages: the audit log, with filters, paging and a CSV export.

The portal keeps no copy of the log: it reads it through the AuditService every gRPC
server serves (as the signed-in admin, so the services' own check applies too).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from flask import Blueprint, render_template, request

from collateral.v1 import audit_pb2
from services.portal import helpers
from services.portal.security import roles_required, rpc

bp = Blueprint("admin", __name__, url_prefix="/admin")

admin_required = roles_required("admin")
FILTERS = ("actor", "action", "target_kind", "target_id", "outcome")
CSV_PAGE = 500
CSV_MAX_ROWS = 10000  # an export larger than this needs narrower filters
CSV_HEADER = ["time", "actor", "actor_role", "peer", "forwarded_for", "service", "action", "target_kind",
              "target_id", "outcome", "phase", "change_id", "id", "before", "after"]


def _day(name: str) -> datetime | None:
    """A YYYY-MM-DD query argument as midnight UTC; None when absent or malformed."""
    try:
        return datetime.strptime(request.args.get(name, ""), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def request_from_args(page_size: int, page_token: str = "") -> audit_pb2.ListAuditRecordsRequest:
    """The ListAuditRecords request of the page's filters (`from` and `to` are whole UTC days)."""
    msg = audit_pb2.ListAuditRecordsRequest(page_size=page_size, page_token=page_token,
                                            include_attempts=request.args.get("attempts") == "1",
                                            **{f: request.args.get(f, "").strip()[:500] for f in FILTERS})
    start, end = _day("from"), _day("to")
    if start:
        msg.time_range.start.FromDatetime(start)
    if end:
        msg.time_range.end.FromDatetime(end + timedelta(days=1))
    return msg


def _row(r: audit_pb2.AuditRecord) -> list[Any]:
    return [r.time, r.actor, r.actor_role, r.peer, r.forwarded_for, r.service, r.action, r.target_kind, r.target_id,
            r.outcome, audit_pb2.AuditPhase.Name(r.phase).removeprefix("AUDIT_PHASE_").lower(), r.change_id, r.id,
            r.before_json, r.after_json]


def _all_records() -> Iterator[audit_pb2.AuditRecord]:
    """Every record matching the filters (newest first, at most CSV_MAX_ROWS)."""
    token, sent = "", 0
    while sent < CSV_MAX_ROWS:
        reply = rpc("audit", "ListAuditRecords", request_from_args(CSV_PAGE, token), timeout=30.0)
        for record in reply.records[:CSV_MAX_ROWS - sent]:
            sent += 1
            yield record
        token = reply.next_page_token
        if not token:
            return


@bp.get("/audit")
@admin_required
def audit() -> Any:
    if helpers.wants_csv():
        return helpers.csv_response("audit-log", CSV_HEADER, (_row(r) for r in _all_records()))
    reply = rpc("audit", "ListAuditRecords",
                request_from_args(helpers.int_arg("page_size", 50, 1, 500), request.args.get("page_token", "")[:4096]))
    return render_template("admin/audit.html", records=reply.records, total=reply.total_size,
                           next_token=reply.next_page_token, audit_pb2=audit_pb2)
