"""Training the model a new, still small index starts with (``linkage/default_model.json``).

EM needs a population: with a few dozen records its estimates mean nothing, so until the index
holds ``MIN_RECORDS_TO_ESTIMATE`` records the hub uses parameters learnt by the same EM from a
population of this generator, read and encoded as an inbox would be. Level probabilities do not
depend on the key, so they transfer to any installation; value frequencies and the prior always
come from the live index.

Rebuild the file after changing comparison levels::

    python -m kim_hub.synth.default_model_training
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.linkage.default_model import MODEL_FILE
from kim_hub.linkage.encode import RecordEncoding, encode_identity
from kim_hub.linkage.keyed import EncodingKeys
from kim_hub.linkage.link import learn_model
from kim_hub.linkage.model import MatchModel
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.identifier_policy import fence_summary, identifier_policy
from kim_hub.mappings.provider_csv import map_provider_row
from kim_hub.synth.generator import generate

TRAINING_PERSONS = 4000
TRAINING_SEED = 20261125


def train_default_model(persons: int = TRAINING_PERSONS, seed: int = TRAINING_SEED) -> MatchModel:
    """Generate a population, read it like any inbox, and learn the model from it."""
    keys = EncodingKeys.from_master(os.urandom(32), "training")
    with tempfile.TemporaryDirectory() as scratch:
        encodings = encode_population(Path(scratch), persons, seed, keys, fenced=True)
    return learn_model(encodings)


def encode_population(
    scratch: Path, persons: int, seed: int, keys: EncodingKeys, fenced: bool = False
) -> dict[int, RecordEncoding]:
    """A generated population's records, read and encoded as an inbox would be (ids 0, 1, …).

    ``fenced``: under the identifier policy as `kim-hub init` declares the bodies (a charity's AZR
    and job-centre numbers dropped), as the hub would take them; the training of the shipped model
    is. Without it every identifier is encoded, so the comparison of each field is exercised."""
    encodings: dict[int, RecordEncoding] = {}
    generate(scratch, persons, seed)
    policy = identifier_policy()
    for path in sorted(Path(scratch, "inbox").rglob("*.csv")):
        batch = ProviderCsvConnector.read_file(path)
        source = path.parent.name
        taken = policy.default_taken(source)
        for row in batch.rows:
            mapped = map_provider_row(source, row)
            if isinstance(mapped, CaseSummary):
                identity = fence_summary(mapped, row, taken).identity if fenced else mapped.identity
                encodings[len(encodings)] = encode_identity(identity, keys)
    return encodings


if __name__ == "__main__":
    trained = train_default_model()
    target = Path(__file__).resolve().parent.parent / "linkage" / MODEL_FILE
    target.write_text(json.dumps(trained.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target} from {trained.record_count} synthetic records", file=sys.stderr)
