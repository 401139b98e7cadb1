"""`python -m services.usage`: run the usage gRPC server."""

from services.common import config, grpc_server
from services.usage.server import build_spec


def main() -> None:
    settings = config.load()
    grpc_server.run(build_spec(settings), settings)


if __name__ == "__main__":
    main()
