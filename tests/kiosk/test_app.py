"""The kiosk's app: health for its HQ on its chain's store network, refused to anyone else."""

from __future__ import annotations

import pytest

from yakuba.config import Deployment, Role
from yakuba.errors import ConfigError
from yakuba.kiosk import create_app, listen_segment
from yakuba.pki import load_service_identity
from yakuba.wire import Server, client_session

from .kiosk_support import HQ, KIOSK, STORE


def test_the_kiosk_listens_on_its_chains_store_network(deployment: Deployment) -> None:
    assert listen_segment(deployment, KIOSK) == STORE
    assert listen_segment(deployment, "aozora-kodaira-1") == "store:aozora"
    with pytest.raises(ConfigError):
        listen_segment(deployment, "center-1")


async def test_health_answers_its_hq_only(deployment: Deployment) -> None:
    identity = load_service_identity(deployment, instance=KIOSK, segment_id=listen_segment(deployment, KIOSK))
    async with Server(app=create_app(deployment, instance=KIOSK), identity=identity) as server:
        hq = load_service_identity(deployment, instance=HQ, segment_id=STORE)
        async with (
            client_session(hq, expected_role=Role.KIOSK) as session,
            session.get(server.base_url + "/v1/health") as response,
        ):
            assert response.status == 200
            assert await response.json() == {"status": "ok", "role": "kiosk", "instance": KIOSK}
        other = load_service_identity(deployment, instance="midori-hibarigaoka-1", segment_id=STORE)
        async with (
            client_session(other, expected_role=Role.KIOSK) as session,
            session.get(server.base_url + "/v1/health") as response,
        ):
            assert response.status == 403
            assert (await response.json())["error"] == "forbidden"
