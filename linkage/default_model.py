"""The model a new, still small index starts with: shipped parameters until the index can learn its own.

EM needs a population: with a few dozen records its estimates mean nothing. Until the index holds
``MIN_RECORDS_TO_ESTIMATE`` records the hub uses parameters learnt (by the same EM) from a
synthetic population of the project's own generator, shipped as ``default_model.json`` and
rebuilt by ``python -m kim_hub.synth.default_model_training`` (which reads the population under
the identifier policy; the shipped file predates it and keeps the same fields, so it loads as it
is: its AZR levels were learnt with a few charity numbers among the authority's and the job
centre's, and the job-centre number is never compared by default). Level probabilities do not depend
on the key, so they transfer to any installation; value frequencies and the prior always come
from the live index.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from kim_hub.linkage.model import MatchModel

MIN_RECORDS_TO_ESTIMATE = 1000
MODEL_FILE = "default_model.json"


@cache
def default_model() -> MatchModel:
    """The shipped parameters (frozen: using them never changes them)."""
    text = resources.files("kim_hub.linkage").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return MatchModel.from_dict(json.loads(text))
