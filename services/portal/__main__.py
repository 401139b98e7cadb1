"""`python -m services.portal`: serve the portal with waitress.

waitress is a production WSGI server in pure Python (no C build, runs the same on a
laptop and in a container): a fixed thread pool behind an asyncore front end that
buffers slow clients, request size limits, and no debugger. werkzeug's development
server is explicitly not meant for production, and gunicorn would add a pre-fork
master that Kubernetes already provides (replicas behind a Service).
"""

from __future__ import annotations

import logging
import signal
from typing import Any

import waitress

from services.common import cli, config, logs, metrics
from services.portal.app import create_app

log = logging.getLogger("services.portal")

# Next to the gRPC services' (9464-9466) and the consumers' (9467-9469) metrics ports.
DEFAULT_METRICS_PORT = 9470


def serve_metrics(settings: config.Settings) -> int:
    """Expose /metrics on its own listener, as the other processes do, and return its port.

    The portal's HTTP port is public (the Ingress, customers' share links), so the metrics,
    which name routes, users' sign-in outcomes and traffic volumes, stay off it.
    """
    port = settings.metrics_port or DEFAULT_METRICS_PORT
    metrics.serve(port, settings.metrics_host)
    return port


def main(argv: list[str] | None = None) -> None:
    cli.parse_no_arguments("python -m services.portal", __doc__, argv)
    settings = config.load()
    logs.configure("portal", settings.log_level, settings.log_format)
    app = create_app(settings)
    metrics_port = serve_metrics(settings)
    server = waitress.create_server(
        app, host=settings.portal_host, port=settings.portal_port, threads=settings.portal_threads,
        ident="collateral-portal", max_request_body_size=settings.content_max_file_bytes + 1024 * 1024,
        channel_timeout=120, clear_untrusted_proxy_headers=False,  # trust is decided per peer (helpers.client_ip)
    )

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal received; stopping", extra={"signal": signal.Signals(signum).name})
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("portal serving", extra={"host": settings.portal_host, "port": settings.portal_port,
                                      "metrics_host": settings.metrics_host, "metrics_port": metrics_port})
    try:
        server.run()
    finally:
        app.extensions["collateral_backends"].close()


if __name__ == "__main__":
    main()
