"""What the tests share: one place for the helpers that were copied from file to file.

Import from here (``from tests.support import Hub, run_cli, shared``); test data lives in
``tests.support.data``. No test module imports another test module, nor tests/conftest.py:
fixtures come from conftest, everything else from this package.

==========================  ==================================================================
``paths``                   ``ROOT``, ``FIXTURES``, ``PLUGINS``; ``SHARED`` and ``shared(...)``
                            (../shared: missing is a failure, never a skip), ``sample(name)``
``files``                   deliveries: ``settle`` (back-date so the drop folder takes it),
                            ``deliver``, ``csv_text``, ``copy_deliveries``, ``copy_sample``
``cli``                     the real CLI in a child process: ``run_cli``, ``start_cli``,
                            ``init_home`` (a home with the fixed test key), ``kim_hub_command``
``keys``                    ``TEST_MASTER_KEY``, ``TEST_RECORD_ID_KEY`` and ``seeded_keys``
                            (wherever an outcome is asserted), ``random_keys`` (only where key
                            independence is the point), ``plant_test_key``
``databases``               ``sqlite_url``, ``postgres_database`` (a fresh PostgreSQL database)
``hub``                     ``Hub``: the ``hub`` fixture's object (``drop``, ``drop_rows``,
                            ``ingest``, ``ingest_all``, ``link``, ``sync``, ``pseudonyms``, ``stored_id``,
                            ``receipt``, ``use_districts``)
``scenarios``               homes several modules start from: ``samira_in_two_sources``,
                            ``coordinator_home`` (two districts, three chain gaps),
                            ``report_home``, ``review_home`` (two review items)
``data``                    CSV rows and headers (``GOOD``, ``FLAWED``, ``person_at`` …), fixture
                            files, ``read_truth`` / ``truth_rows`` (not re-exported here)
``prefect``                 ``prefect_server``: one Prefect API server for a session's CLI runs
``servers``                 ``free_port``, ``serving_web`` (the web application under uvicorn, in a
                            thread); not re-exported here
``browser``                 ``chromium``, ``HEADLESS_FLAGS``, ``playwright_launch_args``: Debian's
                            Chromium, headless, off the network; not re-exported here
``oidc_provider``           ``oidc_provider``: a real OpenID provider (Node's oidc-provider) on a free
                            port, ``log_in_at_provider`` (its login form over HTTP); not
                            re-exported here
==========================  ==================================================================

Nothing in this package imports Prefect (tests/conftest.py sets Prefect's environment first).
"""

from tests.support.cli import init_home, kim_hub_command, run_cli, start_cli
from tests.support.databases import (
    BACKENDS,
    POSTGRES_ENV,
    migrated_sqlite_database,
    postgres_admin_url,
    postgres_database,
    sqlite_url,
)
from tests.support.files import SETTLED_AGE, copy_deliveries, copy_sample, csv_text, deliver, settle
from tests.support.hub import Hub
from tests.support.keys import TEST_MASTER_KEY, TEST_RECORD_ID_KEY, plant_test_key, random_keys, seeded_keys
from tests.support.paths import FIXTURES, PLUGINS, ROOT, SHARED, sample, shared
from tests.support.scenarios import coordinator_home, report_home, review_home, samira_in_two_sources

__all__ = [
    "BACKENDS",
    "FIXTURES",
    "PLUGINS",
    "POSTGRES_ENV",
    "ROOT",
    "SETTLED_AGE",
    "SHARED",
    "TEST_MASTER_KEY",
    "TEST_RECORD_ID_KEY",
    "Hub",
    "copy_deliveries",
    "copy_sample",
    "csv_text",
    "deliver",
    "init_home",
    "kim_hub_command",
    "plant_test_key",
    "postgres_admin_url",
    "postgres_database",
    "migrated_sqlite_database",
    "random_keys",
    "coordinator_home",
    "report_home",
    "review_home",
    "run_cli",
    "samira_in_two_sources",
    "sample",
    "seeded_keys",
    "settle",
    "shared",
    "sqlite_url",
    "start_cli",
]
