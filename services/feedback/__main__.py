"""`python -m services.feedback`: run the feedback gRPC server."""

from services.common import config, grpc_server
from services.feedback.server import build_spec


def main() -> None:
    settings = config.load()
    grpc_server.run(build_spec(settings), settings)


if __name__ == "__main__":
    main()
