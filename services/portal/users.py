"""Portal accounts: local users with hashed passwords in the `portal-users` index.

The portal owns this index (no service reads it). Passwords are hashed with
werkzeug's scrypt; the document id is the lower-cased email, so an email is unique
and a sign-in is one realtime GET. `python -m services.portal.users add|list|passwd|revoke`
manages accounts from the command line; a new password and `revoke` end every portal
session of the account (sessions.py), so a stolen cookie does not outlive either.
"""

from __future__ import annotations

import argparse
import getpass
import re
import socket
import sys
from dataclasses import dataclass
from typing import Any, Callable

from elasticsearch import Elasticsearch, NotFoundError
from werkzeug.security import check_password_hash, generate_password_hash

from services.common import audit, config, errors, es as es_helpers, events
from services.portal.sessions import SessionStore

ROLES = ("rep", "marketer", "admin")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")
MIN_PASSWORD = 8

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "email": {"type": "keyword"},
        "name": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
        "role": {"type": "keyword"},
        "password_hash": {"type": "keyword", "index": False},
        "disabled": {"type": "boolean"},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
    },
}

# A valid hash of a random password: checking it when the user does not exist keeps
# the response time of "unknown email" and "wrong password" alike.
_DUMMY_HASH = generate_password_hash("not-a-password-x9!", method="scrypt")


@dataclass(frozen=True)
class User:
    email: str
    name: str
    role: str
    disabled: bool = False


class UserStore:
    def __init__(self, settings: config.Settings, client: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = client or es_helpers.client(settings)
        self.alias = settings.index("portal-users")
        self._ready = False

    def ensure(self) -> None:
        if not self._ready:
            es_helpers.ensure_alias(self.es, self.alias, es_helpers.index_body(self.settings, MAPPINGS))
            self._ready = True

    @staticmethod
    def _validate(email: str, name: str, role: str, password: str | None) -> str:
        email = email.strip().lower()
        if not EMAIL_RE.match(email):
            raise errors.InvalidArgument("email", "not a valid email address")
        if not name.strip() or len(name) > 200:
            raise errors.InvalidArgument("name", "required, at most 200 characters")
        if role not in ROLES:
            raise errors.InvalidArgument("role", f"one of {', '.join(ROLES)}")
        if password is not None and not (MIN_PASSWORD <= len(password) <= 1024):
            raise errors.InvalidArgument("password", f"at least {MIN_PASSWORD} characters")
        return email

    def add(self, email: str, name: str, role: str, password: str, replace: bool = False) -> User:
        email = self._validate(email, name, role, password)
        self.ensure()
        now = events.utc_now_iso()
        doc = {"email": email, "name": name.strip(), "role": role, "disabled": False,
               "password_hash": generate_password_hash(password, method="scrypt"),
               "created_at": now, "updated_at": now}
        try:
            self.es.index(index=self.alias, id=email, document=doc, op_type="index" if replace else "create",
                          refresh="wait_for")
        except Exception as exc:  # noqa: BLE001 - translate the conflict only
            if getattr(getattr(exc, "meta", None), "status", None) == 409:
                raise errors.AlreadyExists(f"user {email} exists") from None
            raise
        return User(email, doc["name"], role)

    def _source(self, email: str) -> dict[str, Any] | None:
        self.ensure()
        try:
            return self.es.get(index=self.alias, id=email.strip().lower())["_source"]
        except NotFoundError:
            return None

    def get(self, email: str) -> User | None:
        src = self._source(email)
        if src is None:
            return None
        return User(src["email"], src["name"], src["role"], bool(src.get("disabled")))

    def authenticate(self, email: str, password: str) -> User | None:
        """The user when the password matches and the account is enabled, else None."""
        if len(email) > 256 or len(password) > 1024:
            return None
        src = self._source(email)
        if src is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not check_password_hash(src["password_hash"], password) or src.get("disabled"):
            return None
        return User(src["email"], src["name"], src["role"])

    def list(self, limit: int = 1000) -> list[User]:
        self.ensure()
        hits = self.es.search(index=self.alias, size=limit, sort=[{"email": "asc"}])["hits"]["hits"]
        return [User(h["_source"]["email"], h["_source"]["name"], h["_source"]["role"],
                     bool(h["_source"].get("disabled"))) for h in hits]

    def set_password(self, email: str, password: str) -> int:
        """Replace the password and end every session of the account; returns how many ended.

        Whoever may have learned the old password (or copied a cookie) is signed out on
        every replica; the caller re-issues its own session if it wants to keep one.
        """
        src = self._source(email)
        if src is None:
            raise errors.NotFound(f"no user {email}")
        self._validate(src["email"], src["name"], src["role"], password)
        src["password_hash"] = generate_password_hash(password, method="scrypt")
        src["updated_at"] = events.utc_now_iso()
        self.es.index(index=self.alias, id=src["email"], document=src, refresh="wait_for")
        return self.sessions().revoke_user(src["email"])

    def sessions(self) -> SessionStore:
        """The session store on the same cluster (the portal's other index)."""
        return SessionStore(self.settings, client=self.es)


AUDIT_TOOL = "services.portal.users"


def record_account_change(store: UserStore, audit_log: audit.AuditLog, actor: audit.Actor, origin: audit.Origin,
                          action: str, email: str, change: Callable[[], Any]) -> Any:
    """Run one change of an account through the audit log, the account's document (never its
    password hash) before and after; whoever changes accounts, the tool or the portal, goes here.

    Raises errors.Unavailable only when nothing changed (the attempt record was not stored).
    """
    return audit.record_change(audit_log, actor, origin, "portal", action, "user", email.strip().lower(),
                               store._source, change)


def audited(store: UserStore, audit_log: audit.AuditLog, command: str, email: str, change: Any) -> Any:
    """Run one account change of the tool through the audit log (who: the tool on this host)."""
    return record_account_change(store, audit_log, audit.system_actor(AUDIT_TOOL),
                                 audit.Origin(peer=f"host:{socket.gethostname()}"), f"portal/users.{command}", email,
                                 change)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.portal.users", description="Manage portal accounts.")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create an account")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password", help="password (prompted when omitted)")
    add.add_argument("--replace", action="store_true", help="overwrite an existing account")
    sub.add_parser("list", help="list accounts")
    pw = sub.add_parser("passwd", help="change a password")
    pw.add_argument("--email", required=True)
    pw.add_argument("--password")
    revoke = sub.add_parser("revoke", help="sign an account out of every portal session")
    revoke.add_argument("--email", required=True)
    args = parser.parse_args(argv)
    settings = config.load()
    store = UserStore(settings)
    audit_log = audit.AuditLog(settings, client=store.es)
    try:
        if args.command == "add":
            password = args.password or getpass.getpass("Password: ")
            user = audited(store, audit_log, "add", args.email, lambda: store.add(
                args.email, args.name, args.role, password, replace=args.replace))
            print(f"added {user.email} ({user.role})")
        elif args.command == "passwd":
            password = args.password or getpass.getpass("New password: ")
            ended = audited(store, audit_log, "passwd", args.email, lambda: store.set_password(args.email, password))
            print(f"password changed; {ended} session(s) signed out")
        elif args.command == "revoke":
            if store.get(args.email) is None:
                raise errors.NotFound(f"no user {args.email}")
            ended = audited(store, audit_log, "revoke", args.email, lambda: store.sessions().revoke_user(args.email))
            print(f"{ended} session(s) signed out")
        else:
            for user in store.list():
                print(f"{user.email:40} {user.role:9} {user.name}{'  (disabled)' if user.disabled else ''}")
    except errors.ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
