"""The customer access gate: what a share link (or a deal room) asks before it shows anything.

One place for every customer-facing view that serves something behind a token. A view
describes what its link requires (`Requirements`: a passcode, a verified email, the
email domains allowed), then:

* `guard(req, check_passcode, ...)` on the page itself: None when the customer has
  passed, otherwise the response to send (the passcode form, the email form, the code
  form, or the result of a submitted step);
* `require(req)` on everything else the link serves (page images, downloads, beacons):
  403 unless passed, so nothing of the asset leaks around the page;
* `viewer_email(req)`: the verified address, to put on the customer's usage events.

Passing is remembered as a per-link mark in the customer's session cookie (signed by
Flask with the portal secret, so it cannot be forged or moved to another link), valid
for ACCESS_TTL_S. Wrong passcodes and codes are throttled per link and client with the
sign-in throttle (throttle.py), under keys of their own; sending codes is throttled the
same way, so the gate cannot be used to flood an inbox. Codes: access_codes.py.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from flask import Response, abort, current_app, redirect, render_template, request, session

from services.common import errors, mail, metrics
from services.portal import helpers
from services.portal.access_codes import (EXHAUSTED, EXPIRED, PASSED, UNKNOWN, CodeStore, CODE_TTL_S, MAX_ATTEMPTS,
                                          new_code)
from services.portal.throttle import SignInGuard, Verdict

ACCESS_TTL_S = 12 * 3600
MAX_MARKS = 20  # links one browser remembers having passed; the oldest is forgotten first
SESSION_KEY = "access"
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MAX_EMAIL_CHARS = 254
STEPS = ("passcode", "email", "code", "restart")


@dataclass(frozen=True)
class Requirements:
    """What one link asks of a customer. `key` names the link for marks and throttles."""

    key: str
    passcode: bool = False
    email: bool = False
    allowed_domains: tuple[str, ...] = ()

    @classmethod
    def of_share(cls, share: Any) -> "Requirements":
        """A usage ShareLink message's requirements."""
        return cls(key=f"share:{share.share_id}", passcode=share.passcode_required,
                   email=share.email_verification_required, allowed_domains=tuple(share.allowed_email_domains))

    @property
    def is_open(self) -> bool:
        return not (self.passcode or self.email)

    @property
    def noun(self) -> str:
        """What the customer is opening, in the gate's words and its code email."""
        return "deal room" if self.key.startswith("room:") else "document"


# ---- the marks in the customer's session ---------------------------------------------

def _marks() -> dict[str, dict[str, Any]]:
    marks = session.get(SESSION_KEY)
    return marks if isinstance(marks, dict) else {}


def _mark(req: Requirements) -> dict[str, Any]:
    mark = _marks().get(req.key)
    return mark if isinstance(mark, dict) else {}


def _save_mark(req: Requirements, **fields: Any) -> None:
    marks = dict(_marks())
    mark = {k: v for k, v in dict(marks.pop(req.key, {}) or {}, **fields).items() if v is not None}
    marks[req.key] = mark
    while len(marks) > MAX_MARKS:
        marks.pop(next(iter(marks)))
    session[SESSION_KEY] = marks


def _valid_until(value: Any, now: float) -> bool:
    return isinstance(value, (int, float)) and value > now


def passcode_passed(req: Requirements, now: float | None = None) -> bool:
    return not req.passcode or _valid_until(_mark(req).get("passcode_until"), now or time.time())


def email_passed(req: Requirements, now: float | None = None) -> bool:
    mark = _mark(req)
    return not req.email or (_valid_until(mark.get("email_until"), now or time.time())
                             and isinstance(mark.get("email"), str))


def passed(req: Requirements) -> bool:
    """Whether this browser may see what the link serves."""
    return req.is_open or (passcode_passed(req) and email_passed(req))


def viewer_email(req: Requirements) -> str:
    """The address this browser verified for the link ('' when the link asks for none)."""
    if not req.email or not email_passed(req):
        return ""
    return str(_mark(req).get("email", ""))


def require(req: Requirements) -> None:
    """403 for anything the link serves until the gate is passed (page images, downloads, beacons)."""
    if not passed(req):
        metrics.PORTAL_SHARE_GATE.labels("access", "refused").inc()
        abort(403)


# ---- the gate's flow ---------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """What the gate page shows: the step's form, an error, how many attempts are left."""

    step: str
    error: str = ""
    email: str = ""
    attempts_left: int = 0
    status: int = 200


def guard(req: Requirements, check_passcode: Callable[[str], bool], sender: str = "",
          template: str = "share_gate.html") -> Response | None:
    """None when the customer may see the content; otherwise the gate's response.

    GET shows the next form; POST (same URL) handles one step and redirects to the
    page once everything is passed. `check_passcode` asks the link's owner service
    (the passcode hash never reaches the portal).
    """
    if passed(req):
        return None
    if request.method == "POST":
        outcome = _handle_step(req, check_passcode, sender)
        if outcome is None:
            return redirect(request.path, code=303)  # passed: show the content with a fresh GET
        return _render(req, outcome, sender, template)
    return _render(req, _next_page(req), sender, template)


def _next_page(req: Requirements, error: str = "", status: int = 200) -> Page:
    if not passcode_passed(req):
        return Page("passcode", error, status=status)
    pending = _mark(req).get("challenge")
    if isinstance(pending, str) and pending:
        return Page("code", error, email=str(_mark(req).get("pending_email", "")),
                    attempts_left=MAX_ATTEMPTS, status=status)
    return Page("email", error, status=status)


def _handle_step(req: Requirements, check_passcode: Callable[[str], bool], sender: str) -> Page | None:
    step = request.form.get("step", "")
    if step not in STEPS:
        abort(400)
    if step == "passcode":
        page = _passcode_step(req, check_passcode)
    elif not passcode_passed(req):
        page = _next_page(req)  # the passcode comes first, whatever was posted
    elif step == "email":
        page = _email_step(req, sender)
    elif step == "code":
        page = _code_step(req)
    else:
        _save_mark(req, challenge="", pending_email="")
        page = Page("email")
    if page is None and not passed(req):
        return _next_page(req)
    return page


def _throttle() -> SignInGuard:
    return current_app.extensions["collateral_sign_in_guard"]


def _throttled(step: str, verdict: Verdict, req: Requirements) -> Page:
    metrics.PORTAL_SHARE_GATE.labels(step, "throttled").inc()
    page = _next_page(req, f"Too many attempts. Wait {verdict.retry_after_header} seconds and try again.", 429)
    return page


def _passcode_step(req: Requirements, check_passcode: Callable[[str], bool]) -> Page | None:
    if not req.passcode or passcode_passed(req):
        return _next_page(req)
    entered = (request.form.get("passcode") or "")[:200]
    throttle_key, client = f"share-passcode:{req.key}", helpers.client_ip()
    verdict = _throttle().check(throttle_key, client)
    if not verdict.allowed:
        return _throttled("passcode", verdict, req)
    if entered and len(entered) <= 64 and check_passcode(entered):
        _throttle().succeeded(throttle_key, client)
        _save_mark(req, passcode_until=time.time() + ACCESS_TTL_S)
        metrics.PORTAL_SHARE_GATE.labels("passcode", "passed").inc()
        return None
    _throttle().failed(throttle_key, client)
    metrics.PORTAL_SHARE_GATE.labels("passcode", "wrong").inc()
    return Page("passcode", "That passcode is not right.", status=403)


def check_email(email: str, allowed_domains: tuple[str, ...]) -> str:
    """'' when `email` may receive a code for a link limited to `allowed_domains`, else why not."""
    if len(email) > MAX_EMAIL_CHARS or not EMAIL_RE.match(email):
        return "Enter a valid email address."
    if allowed_domains and email.rsplit("@", 1)[1].lower() not in allowed_domains:
        return "This link is for addresses at " + ", ".join(allowed_domains) + "."
    return ""


def _email_step(req: Requirements, sender: str) -> Page | None:
    email = (request.form.get("email") or "").strip()[:MAX_EMAIL_CHARS + 1]
    problem = check_email(email, req.allowed_domains)
    if problem:
        metrics.PORTAL_SHARE_GATE.labels("email", "refused").inc()
        return Page("email", problem, email=email[:MAX_EMAIL_CHARS], status=400)
    email = email.lower()
    throttle_key, client = f"share-code-sent:{req.key}", helpers.client_ip()
    verdict = _throttle().check(throttle_key, client)
    if not verdict.allowed:
        return _throttled("email", verdict, req)
    settings = current_app.config["COLLATERAL"]
    code = new_code()
    challenge_id = code_store().create(req.key, email, code)
    try:
        mail.send(settings, code_mail(email, code, sender, req.noun))
    except mail.MailDisabled:
        metrics.PORTAL_SHARE_GATE.labels("email", "unavailable").inc()
        return Page("email", "Email verification is not available right now. Ask the sender for another link.",
                    email=email, status=503)
    except mail.MailRefused:
        metrics.PORTAL_SHARE_GATE.labels("email", "refused").inc()
        return Page("email", "That address cannot receive email. Check it and try again.", email=email, status=400)
    except errors.Unavailable:
        metrics.PORTAL_SHARE_GATE.labels("email", "unavailable").inc()
        return Page("email", "The code could not be sent just now. Try again in a minute.", email=email, status=503)
    _throttle().failed(throttle_key, client)  # every code sent counts: repeated sends slow down
    _save_mark(req, challenge=challenge_id, pending_email=email)
    metrics.PORTAL_SHARE_GATE.labels("email", "sent").inc()
    return Page("code", email=email, attempts_left=MAX_ATTEMPTS)


def _code_step(req: Requirements) -> Page | None:
    mark = _mark(req)
    challenge_id = mark.get("challenge")
    if not isinstance(challenge_id, str) or not challenge_id:
        return Page("email", "Request a code first.", status=400)
    throttle_key, client = f"share-code:{req.key}", helpers.client_ip()
    verdict = _throttle().check(throttle_key, client)
    if not verdict.allowed:
        return _throttled("code", verdict, req)
    result = code_store().check(challenge_id, req.key, request.form.get("code") or "")
    if result.verdict == PASSED:
        _throttle().succeeded(throttle_key, client)
        _save_mark(req, challenge="", pending_email="", email=result.email, email_until=time.time() + ACCESS_TTL_S)
        metrics.PORTAL_SHARE_GATE.labels("code", "passed").inc()
        return None
    metrics.PORTAL_SHARE_GATE.labels("code", result.verdict).inc()
    if result.verdict in (EXPIRED, EXHAUSTED, UNKNOWN):
        _save_mark(req, challenge="", pending_email="")
        why = {EXPIRED: "That code has expired.", EXHAUSTED: "Too many wrong codes.",
               UNKNOWN: "That code is no longer valid."}[result.verdict]
        return Page("email", f"{why} Request a new code.", email=str(mark.get("pending_email", "")), status=403)
    _throttle().failed(throttle_key, client)
    left = result.attempts_left
    if left <= 0:
        _save_mark(req, challenge="", pending_email="")
        return Page("email", "Too many wrong codes. Request a new code.", status=403)
    return Page("code", f"That code is not right. {left} attempt{'s' if left != 1 else ''} left.",
                email=str(mark.get("pending_email", "")), attempts_left=left, status=403)


def code_mail(email: str, code: str, sender: str, noun: str = "document") -> mail.Mail:
    who = f" {sender} shared with you" if sender else " shared with you"
    minutes = CODE_TTL_S // 60
    text = (f"Your code to open the {noun}{who} is {code}.\n\n"
            f"It is valid for {minutes} minutes. If you did not ask for it, ignore this email.\n")
    return mail.Mail(to=email, subject=f"Your code: {code}", text=text)


def code_store() -> CodeStore:
    """The portal's code store, built on first use (on the account store's Elasticsearch client)."""
    store = current_app.extensions.get("collateral_access_codes")
    if store is None:
        users = current_app.extensions.get("collateral_users")
        store = CodeStore(current_app.config["COLLATERAL"], client=getattr(users, "es", None))
        current_app.extensions["collateral_access_codes"] = store
    return store


def _render(req: Requirements, page: Page, sender: str, template: str) -> Response:
    body = render_template(template, page=page, req=req, sender=sender, ttl_minutes=CODE_TTL_S // 60)
    resp = Response(body, status=page.status)
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.headers["Cache-Control"] = "no-store"
    return resp
