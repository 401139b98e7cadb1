"""A real OpenID Connect provider for the sign-in tests: dex, with its LDAP connector in
front of a real OpenLDAP server (slapd) that holds the users and their groups.

dex's own password database carries no groups, and its mock connectors know one fixed
user; the LDAP connector gives every user a login form at dex and a `groups` claim
from the directory, as a company directory behind an identity provider would. Both
processes run on free loopback ports with throw-away data and are stopped (SIGTERM,
then SIGKILL) when the fixture ends.

dex is built from source with `go install` by deploy/dex/build.sh (./dev test and
.ci/run run it) into ~/.cache/collateral/bin; slapd comes from Debian's `slapd` package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import requests

from scripts.local_services import free_port
from tests.conftest import skip_or_fail, wait_until
from tests.processes import stop_process

ROOT = Path(__file__).resolve().parents[1]
DEX_BUILD = ROOT / "deploy" / "dex" / "build.sh"
SLAPD = "/usr/sbin/slapd"
LDAP_SUFFIX = "dc=collateral,dc=test"
LDAP_ADMIN_DN = f"cn=admin,{LDAP_SUFFIX}"
LDAP_ADMIN_PW = "ldap-admin-secret"
CLIENT_ID = "collateral-portal"
CLIENT_SECRET = "collateral-portal-secret-for-tests"
PASSWORD = "dex-password-1"
ROLE_MAP = "collateral-admins=admin,marketing=marketer,sales=rep"


@dataclass(frozen=True)
class DirectoryUser:
    uid: str
    name: str
    email: str
    groups: tuple[str, ...]


USERS = {
    "marketer": DirectoryUser("mmarketer", "Mona Marketer", "mona.marketer@example.com", ("marketing",)),
    "admin": DirectoryUser("aadmin", "Alan Admin", "alan.admin@example.com", ("collateral-admins", "marketing")),
    "rep": DirectoryUser("rrep", "Rosa Rep", "rosa.rep@example.com", ("sales",)),
    "outsider": DirectoryUser("oout", "Omar Outsider", "omar.outsider@example.com", ("finance",)),
}


@dataclass
class Provider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            stop_process(proc, 10)


def dex_binary() -> Path:
    """The pinned dex build, built now when missing (the build script caches it)."""
    if shutil.which("go") is None and not _cached_dex().exists():
        skip_or_fail("dex is not built and Go is missing (deploy/dex/build.sh builds it with go install)")
    done = subprocess.run(["bash", str(DEX_BUILD)], capture_output=True, text=True, timeout=1500)
    if done.returncode != 0:
        raise RuntimeError(f"deploy/dex/build.sh failed:\n{done.stdout}\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


def _cached_dex() -> Path:
    out = subprocess.run(["bash", str(DEX_BUILD), "--path"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _ldif() -> str:
    entries = [
        f"dn: {LDAP_SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Collateral tests\ndc: collateral",
        f"dn: ou=people,{LDAP_SUFFIX}\nobjectClass: organizationalUnit\nou: people",
        f"dn: ou=groups,{LDAP_SUFFIX}\nobjectClass: organizationalUnit\nou: groups",
    ]
    groups: dict[str, list[str]] = {}
    for user in USERS.values():
        dn = f"uid={user.uid},ou=people,{LDAP_SUFFIX}"
        entries.append(f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {user.uid}\ncn: {user.name}\n"
                       f"sn: {user.name.split()[-1]}\nmail: {user.email}\nuserPassword: {PASSWORD}")
        for group in user.groups:
            groups.setdefault(group, []).append(dn)
    for group, members in groups.items():
        lines = "\n".join(f"member: {m}" for m in members)
        entries.append(f"dn: cn={group},ou=groups,{LDAP_SUFFIX}\nobjectClass: groupOfNames\ncn: {group}\n{lines}")
    return "\n\n".join(entries) + "\n"


def _slapd_conf(state: Path) -> str:
    schema = "/etc/ldap/schema"
    return "\n".join([
        f"include {schema}/core.schema", f"include {schema}/cosine.schema",
        f"include {schema}/inetorgperson.schema",
        "modulepath /usr/lib/ldap", "moduleload back_mdb",
        f"pidfile {state}/slapd.pid",
        "database mdb", f'suffix "{LDAP_SUFFIX}"', f'rootdn "{LDAP_ADMIN_DN}"', f"rootpw {LDAP_ADMIN_PW}",
        f"directory {state}/data", "maxsize 10485760",
        "access to * by * read",
        "",
    ])


def start_ldap(state: Path) -> tuple[subprocess.Popen, int]:
    """slapd with the users of USERS, loaded offline with slapadd before it starts."""
    if not os.path.exists(SLAPD):
        skip_or_fail(f"{SLAPD} is missing (apt-get install slapd; ./dev test and .ci/run install it)")
    (state / "data").mkdir(parents=True)
    conf = state / "slapd.conf"
    conf.write_text(_slapd_conf(state))
    (state / "users.ldif").write_text(_ldif())
    subprocess.run([SLAPD, "-T", "add", "-f", str(conf), "-l", str(state / "users.ldif")],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    with open(state / "slapd.log", "wb") as log:
        proc = subprocess.Popen([SLAPD, "-d", "0", "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/"],
                                stdout=log, stderr=subprocess.STDOUT)
    wait_until(lambda: proc.poll() is not None or _port_open(port), timeout_s=30, what="slapd listening")
    if proc.poll() is not None:
        raise RuntimeError(f"slapd exited: {(state / 'slapd.log').read_text()[-2000:]}")
    return proc, port


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _dex_config(issuer: str, port: int, ldap_port: int, redirect_uris: list[str]) -> str:
    import json

    config = {
        "issuer": issuer,
        "storage": {"type": "memory"},
        "web": {"http": f"127.0.0.1:{port}"},
        "logger": {"level": "info"},
        "oauth2": {"skipApprovalScreen": True, "responseTypes": ["code"]},
        "expiry": {"idTokens": "10m", "authRequests": "10m"},
        "enablePasswordDB": False,
        "staticClients": [{"id": CLIENT_ID, "secret": CLIENT_SECRET, "name": "Collateral",
                           "redirectURIs": redirect_uris}],
        "connectors": [{
            "type": "ldap", "id": "ldap", "name": "Company directory",
            "config": {
                "host": f"127.0.0.1:{ldap_port}", "insecureNoSSL": True,
                "bindDN": LDAP_ADMIN_DN, "bindPW": LDAP_ADMIN_PW, "usernamePrompt": "Email",
                "userSearch": {"baseDN": f"ou=people,{LDAP_SUFFIX}", "filter": "(objectClass=inetOrgPerson)",
                               "username": "mail", "idAttr": "uid", "emailAttr": "mail", "nameAttr": "cn"},
                "groupSearch": {"baseDN": f"ou=groups,{LDAP_SUFFIX}", "filter": "(objectClass=groupOfNames)",
                                "userMatchers": [{"userAttr": "DN", "groupAttr": "member"}], "nameAttr": "cn"},
            },
        }],
    }
    return json.dumps(config, indent=2)  # YAML is a superset of JSON


def start_provider(state: Path, redirect_uris: list[str]) -> Provider:
    """slapd + dex, ready: dex's discovery document answers. The caller stops it."""
    dex = dex_binary()
    ldap, ldap_port = start_ldap(state / "ldap")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/dex"
    provider = Provider(issuer, processes=[ldap])
    conf = state / "dex.yaml"
    conf.write_text(_dex_config(issuer, port, ldap_port, redirect_uris))
    with open(state / "dex.log", "wb") as log:
        provider.processes.append(subprocess.Popen([str(dex), "serve", str(conf)], stdout=log,
                                                   stderr=subprocess.STDOUT))
    try:
        wait_until(lambda: provider.processes[-1].poll() is not None or _discovery_ok(issuer),
                   timeout_s=60, what="dex discovery document")
        if provider.processes[-1].poll() is not None:
            raise RuntimeError(f"dex exited: {(state / 'dex.log').read_text()[-3000:]}")
    except BaseException:
        provider.stop()
        raise
    return provider


def _discovery_ok(issuer: str) -> bool:
    try:
        return requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def provider_fixture(state: Path, redirect_uris: list[str]) -> Iterator[Provider]:
    """Body of a pytest fixture: start, yield, always stop."""
    provider = start_provider(state, redirect_uris)
    try:
        yield provider
    finally:
        provider.stop()
