"""`python -m services.common.gen_secrets DIR`: generate a deployment's secrets and TLS certificates.

Writes into DIR (created if missing), keeping every file that already exists so that a
restart keeps its secrets and certificates:

  auth_secret, portal_secret_key, share_link_secret, s3_secret_key, es_password, grafana_admin_password
      random secrets (64 hex characters), read through COLLATERAL_*_FILE and the servers' own *_FILE variables
  ca.crt, ca.key              a private certificate authority that signs the two certificates below
  server.crt, server.key      the server certificate of every TLS endpoint (gRPC services, Kafka,
                              Elasticsearch, MinIO), for the --name host names plus localhost and 127.0.0.1
  client.crt, client.key      the client certificate for gRPC mutual TLS (portal and tools)
  kafka-keystore.pem          server.key + server.crt, Kafka's PEM key store
  kafka-client.properties     TLS settings for Kafka's command-line tools (health check)
  minio/                      public.crt, private.key and CAs/ca.crt, as MinIO's --certs-dir wants them

docker-compose.yml runs it in its one-shot `setup` service; the TLS tests use it too. It
needs the `openssl` command (Debian's ca-certificates, in the image, depends on it).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

from services.common import cli

SECRETS = ("auth_secret", "portal_secret_key", "share_link_secret", "s3_secret_key", "es_password",
           "grafana_admin_password")
DEFAULT_NAMES = ("content", "usage", "feedback", "portal", "kafka", "elasticsearch", "minio")
CA_DAYS = 3650
LEAF_DAYS = 825  # the longest lifetime clients (browsers, Apple platforms) accept for a leaf certificate


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def write_secret(folder: Path, name: str) -> Path:
    """A random secret in `folder/name`, unless the file exists."""
    path = folder / name
    if not path.exists():
        path.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        path.chmod(0o644)
    return path


def make_ca(folder: Path, common_name: str = "Collateral private CA") -> tuple[Path, Path]:
    """(ca.crt, ca.key) in `folder`, created unless both exist."""
    cert, key = folder / "ca.crt", folder / "ca.key"
    if not (cert.exists() and key.exists()):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                 "-days", str(CA_DAYS), "-subj", f"/CN={common_name}",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return cert, key


def make_certificate(folder: Path, name: str, ca: tuple[Path, Path], hosts: Sequence[str] = (),
                     client: bool = False) -> tuple[Path, Path]:
    """(name.crt, name.key) signed by `ca`, created unless both exist.

    `hosts` become the subject alternative names (IP addresses as IP entries); a client
    certificate is for client authentication only.
    """
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    if cert.exists() and key.exists():
        return cert, key
    usage = "clientAuth" if client else "serverAuth,clientAuth"
    extensions = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
                  f"extendedKeyUsage={usage}"]
    if hosts:
        extensions.append("subjectAltName=" + ",".join(_san(h) for h in hosts))
    with tempfile.TemporaryDirectory() as scratch:
        csr, ext = Path(scratch) / "req.csr", Path(scratch) / "ext.cnf"
        ext.write_text("\n".join(extensions) + "\n", encoding="utf-8")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                 "-subj", f"/CN={hosts[0] if hosts else name}")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
                 "-set_serial", str(secrets.randbits(63)), "-days", str(LEAF_DAYS), "-sha256",
                 "-extfile", str(ext), "-out", str(cert))
    # Read by the servers' own users in their containers (Kafka, Elasticsearch, MinIO run as other uids).
    key.chmod(0o644)
    return cert, key


def _san(host: str) -> str:
    is_ip = host.replace(".", "").isdigit() or ":" in host
    return f"IP:{host}" if is_ip else f"DNS:{host}"


def _server_extras(folder: Path) -> None:
    """The same server certificate in the layouts Kafka and MinIO expect."""
    keystore = folder / "kafka-keystore.pem"
    if not keystore.exists():
        keystore.write_text((folder / "server.key").read_text() + (folder / "server.crt").read_text())
        keystore.chmod(0o644)
    (folder / "kafka-client.properties").write_text(
        "security.protocol=SSL\nssl.truststore.type=PEM\n"
        f"ssl.truststore.location={folder / 'ca.crt'}\n", encoding="utf-8")
    minio = folder / "minio"
    (minio / "CAs").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "server.crt", minio / "public.crt")
    shutil.copyfile(folder / "server.key", minio / "private.key")
    shutil.copyfile(folder / "ca.crt", minio / "CAs" / "ca.crt")
    for path in (minio / "public.crt", minio / "private.key", minio / "CAs" / "ca.crt"):
        path.chmod(0o644)


def generate(folder: Path, names: Sequence[str] = DEFAULT_NAMES) -> None:
    """Every secret and certificate listed in the module doc, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in SECRETS:
        write_secret(folder, name)
    ca = make_ca(folder)
    make_certificate(folder, "server", ca, [*names, "localhost", "127.0.0.1"])
    make_certificate(folder, "client", ca, ["collateral-client"], client=True)
    _server_extras(folder)
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)


def main(argv: list[str] | None = None) -> None:
    command = cli.parser("python -m services.common.gen_secrets", __doc__)
    command.add_argument("folder", type=Path, help="where to write (created if missing)")
    command.add_argument("--name", action="append", default=None, metavar="HOST",
                         help=f"host name of the server certificate, repeatable (default: {', '.join(DEFAULT_NAMES)})")
    args = command.parse_args(argv)
    if shutil.which("openssl") is None:
        cli.fail("the openssl command is needed to create certificates")
    os.umask(0o022)
    generate(args.folder, args.name or DEFAULT_NAMES)
    print(f"secrets and certificates in {args.folder}")


if __name__ == "__main__":
    main()
