"""Synthetic KIM data: a population of migrants as six sources' exports, plus the truth.

Why: linkage quality and speed must be measured on data of any size and seed, with known
truth, independent of the shipped samples (shared/README.md). Usage::

    from kim_hub.synth import generate
    summary = generate(Path("out"), persons=10_000, seed=1)
"""

from kim_hub.synth.generator import DEFAULT_EXPORT_DAY, GenerationSummary, generate
from kim_hub.synth.sources import SOURCE_NAMES

__all__ = ["DEFAULT_EXPORT_DAY", "SOURCE_NAMES", "GenerationSummary", "generate"]
