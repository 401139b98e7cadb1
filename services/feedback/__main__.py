"""`python -m services.feedback`: run the feedback gRPC server."""

from services.common import cli, config, grpc_server
from services.feedback.server import build_spec


def main(argv: list[str] | None = None) -> None:
    cli.parse_no_arguments("python -m services.feedback", __doc__, argv)
    settings = config.load()
    grpc_server.run(build_spec(settings), settings)


if __name__ == "__main__":
    main()
