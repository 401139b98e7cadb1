"""`python -m services.content` runs the content gRPC server."""

from services.common import config, grpc_server
from services.content.server import build_spec


def main() -> None:
    settings = config.load()
    grpc_server.run(build_spec(settings), settings)


if __name__ == "__main__":
    main()
