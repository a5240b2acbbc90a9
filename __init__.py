"""kim-hub: the integration hub for Kommunales Integrationsmanagement NRW.

One installed package, ``kim_hub``, whose sub-packages are the repository's top-level folders
(``pyproject.toml`` maps ``kim_hub`` to the repository root). ``docs/architecture.md`` is the map
of the rooms and of the imports allowed between them.
"""

__version__ = "0.1.0"
