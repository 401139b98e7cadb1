"""Fixtures of the content service's integration tests: a running server, a stub, documents."""

from __future__ import annotations

import threading
import uuid
from typing import Any, Callable, Iterator

import pytest

from collateral.v1 import content_pb2, content_pb2_grpc
from services.common import config, grpc_server
from services.common.consumer import ConsumerLoop
from services.content.server import build_spec
from services.content.signals_consumer import SignalsProcessor
from tests.conftest import wait_serving

from tests.integration.content.content_helpers import PDF, make_pdf


@pytest.fixture(scope="session")
def content(stack: config.Settings, start_service) -> grpc_server.RunningServer:
    running = start_service(build_spec(stack))
    wait_serving(running.address, "collateral.v1.ContentService")
    return running


@pytest.fixture(scope="session")
def stub(content: grpc_server.RunningServer) -> Iterator[content_pb2_grpc.ContentServiceStub]:
    channel = grpc_server.channel(content.address)
    yield content_pb2_grpc.ContentServiceStub(channel)
    channel.close()


@pytest.fixture()
def unique() -> str:
    """A word no other test uses (tags and search terms), so tests share one index safely."""
    return "w" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def new_asset(stub, call_as) -> Callable[..., content_pb2.Asset]:
    """new_asset(title, publish=True, text=..., **metadata) -> asset created (with a PDF) as a marketer."""

    def create(title: str = "Asset", publish: bool = True, text: str = "collateral body", **metadata: Any
               ) -> content_pb2.Asset:
        metadata.setdefault("type", content_pb2.ASSET_TYPE_DECK)
        asset_id = metadata.pop("asset_id", "")
        request = content_pb2.CreateAssetRequest(
            asset_id=asset_id, asset=content_pb2.Asset(title=title, **metadata),
            file_content=make_pdf(text), file_name="doc.pdf", content_type=PDF)
        asset = stub.CreateAsset(request, metadata=call_as("marketer")).asset
        if publish:
            asset = stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id),
                                      metadata=call_as("marketer")).asset
        return asset

    return create


@pytest.fixture(scope="session")
def signals_loop(stack: config.Settings) -> Iterator[ConsumerLoop]:
    loop = ConsumerLoop(SignalsProcessor(stack), stack)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    yield loop
    loop.stop()
    thread.join(timeout=15)
