"""One Prefect API server for all CLI processes of the reliability tests.

Without it every `kim-hub` process starts Prefect's temporary server (~8 s each); with it, a
crash trial costs a few seconds and 50 of them fit into a CI run. The hub is pointed at it the
way an operator would (KIM_HUB_PREFECT_API_URL), so the code path stays the production one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.hub_processes import prefect_server


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with prefect_server(tmp_path_factory.mktemp("prefect-server")) as api:
        yield api
