"""The model a new, still small index starts with.

EM needs a population: with a few dozen records its estimates mean nothing. Until the index holds
``MIN_RECORDS_TO_ESTIMATE`` records the hub uses parameters learnt (by the same EM) from a synthetic
population of the project's own generator, shipped as ``default_model.json``. Level probabilities
do not depend on the key, so they transfer to any installation; value frequencies and the prior
always come from the live index.

Rebuild the file with ``python -m kim_hub.linkage.default_model`` after changing comparison levels.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from kim_hub.linkage.estimate import MatchModel

if TYPE_CHECKING:
    from kim_hub.linkage.encode import RecordEncoding
    from kim_hub.linkage.keyed import EncodingKeys

MIN_RECORDS_TO_ESTIMATE = 1000
TRAINING_PERSONS = 4000
TRAINING_SEED = 20261125
MODEL_FILE = "default_model.json"


@lru_cache(maxsize=1)
def default_model() -> MatchModel:
    text = resources.files("kim_hub.linkage").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return MatchModel.from_dict(json.loads(text))


def train_default_model(persons: int = TRAINING_PERSONS, seed: int = TRAINING_SEED) -> MatchModel:
    """Generate a population, read it like any inbox, and learn the model from it."""
    from kim_hub.linkage.keyed import EncodingKeys
    from kim_hub.linkage.link import learn_model

    keys = EncodingKeys.from_master(os.urandom(32), "training")
    with tempfile.TemporaryDirectory() as scratch:
        encodings = encode_population(Path(scratch), persons, seed, keys)
    return learn_model(encodings)


def encode_population(scratch: Path, persons: int, seed: int, keys: EncodingKeys) -> dict[int, RecordEncoding]:
    """A generated population's records, read and encoded as an inbox would be (ids 0, 1, …)."""
    from kim_hub.connectors.provider_csv import ProviderCsvConnector
    from kim_hub.linkage.encode import encode_identity
    from kim_hub.mappings.case_summary import CaseSummary
    from kim_hub.mappings.provider_csv import map_provider_row
    from kim_hub.synth import generate

    encodings: dict[int, RecordEncoding] = {}
    generate(scratch, persons, seed)
    for path in sorted(Path(scratch, "inbox").rglob("*.csv")):
        batch = ProviderCsvConnector.read_file(path)
        for row in batch.rows:
            mapped = map_provider_row(path.parent.name, row)
            if isinstance(mapped, CaseSummary):
                encodings[len(encodings)] = encode_identity(mapped.identity, keys)
    return encodings


if __name__ == "__main__":
    trained = train_default_model()
    target = Path(__file__).with_name(MODEL_FILE)
    target.write_text(json.dumps(trained.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target} from {trained.record_count} synthetic records", file=sys.stderr)
