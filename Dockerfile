# One image for every Collateral process; docker-compose.yml picks the process with `command`.
#   docker build -t collateral:local .
#   docker run --rm collateral:local python -m services.content
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# LibreOffice converts Office uploads (pptx, docx, xlsx, odp, odt, ods) to PDF for previews (content
# service). Build with --build-arg OFFICE_PREVIEWS=0 for a smaller image: Office files are then stored
# and marked "Preview unavailable" instead.
ARG OFFICE_PREVIEWS=1
RUN if [ "$OFFICE_PREVIEWS" = "1" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends libreoffice-impress libreoffice-writer libreoffice-calc fonts-dejavu-core \
      && rm -rf /var/lib/apt/lists/*; \
    fi

# Dependencies first, in their own layer: they change far less often than the code.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
RUN pip install --no-deps . \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin collateral

USER collateral

# Containers must listen on all interfaces (the defaults are loopback, for the local stack).
ENV COLLATERAL_GRPC_HOST=0.0.0.0 \
    COLLATERAL_PORTAL_HOST=0.0.0.0

# gRPC: content 50051, usage 50052, feedback 50053; portal 8080; /metrics 9464-9469
EXPOSE 50051 50052 50053 8080 9464 9465 9466 9467 9468 9469 9470

CMD ["python", "-m", "services.content"]
