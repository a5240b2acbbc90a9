"""Every comparison level a reviewer can be shown has German words (web.i18n.LEVELS_DE)."""

from __future__ import annotations

from kim_hub.linkage.compare import LEVELS
from kim_hub.web.i18n import LEVELS_DE, evidence_text


def test_every_level_of_every_field_is_worded_in_german() -> None:
    missing = sorted({level for levels in LEVELS.values() for level in levels} - set(LEVELS_DE))
    assert missing == []


def test_the_address_levels_read_in_german() -> None:
    assert evidence_text("postcode one typo apart, or street spelled alike", "de").startswith("Postleitzahl")
    assert evidence_text("same postcode, or same street and number", "en") == "same postcode, or same street and number"
