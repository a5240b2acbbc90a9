"""Labels of the report and the monitoring tables: German by default, English with ``--lang en``.

Codes (Rechtskreis such as ``SGB II``, residence status codes such as ``AE_25_2_GFK``, source
names) stay as they are: they are the terms of art coordinators use in both languages.
"""

from __future__ import annotations

LANGUAGES = ("de", "en")

LABELS: dict[str, dict[str, str]] = {
    "title": {"de": "Abgleichsbericht für die Koordination", "en": "Coordinator's matching report"},
    "generated": {"de": "Erstellt", "en": "Generated"},
    "pseudonyms_only": {
        "de": "Nur Pseudonyme und Zählungen – keine Klarnamen, Geburtsdaten oder Anschriften.",
        "en": "Pseudonyms and counts only – no clear names, birth dates or addresses.",
    },
    "overview": {"de": "Überblick", "en": "Overview"},
    "records": {"de": "Datensätze", "en": "Records"},
    "records_unlinked": {"de": "noch nicht verknüpft", "en": "not yet linked"},
    "persons": {"de": "Personen", "en": "Persons"},
    "persons_multi_source": {"de": "Personen in mehreren Quellen", "en": "Persons in several sources"},
    "open_review_items": {"de": "Offene Prüffälle", "en": "Open review items"},
    "rejected_rows": {"de": "Abgewiesene Zeilen", "en": "Rejected rows"},
    "chain_gap_persons": {"de": "Personen ohne laufenden Fall", "en": "Persons without a running case"},
    "changes": {"de": "Veränderungen seit dem letzten Bericht", "en": "Changes since the previous report"},
    "no_previous": {"de": "Kein früherer Bericht vorhanden.", "en": "No previous report."},
    "no_changes": {"de": "Keine Veränderungen.", "en": "No changes."},
    "previous": {"de": "vorher", "en": "before"},
    "current": {"de": "jetzt", "en": "now"},
    "delta": {"de": "Differenz", "en": "change"},
    "count": {"de": "Kennzahl", "en": "count"},
    "sources_title": {"de": "Datensätze je Quelle und Lieferung", "en": "Records per source and delivery"},
    "source": {"de": "Quelle", "en": "Source"},
    "day": {"de": "Tag", "en": "Day"},
    "files": {"de": "Dateien", "en": "Files"},
    "rows": {"de": "Zeilen", "en": "Rows"},
    "accepted": {"de": "neu/geändert", "en": "new/changed"},
    "unchanged": {"de": "unverändert", "en": "unchanged"},
    "rejected": {"de": "abgewiesen", "en": "rejected"},
    "spread_title": {"de": "Personen nach Zahl der Quellen", "en": "Persons by number of sources"},
    "n_sources": {"de": "Zahl der Quellen", "en": "Number of sources"},
    "overlap_title": {"de": "Überschneidung der Quellen (Personen in beiden)", "en": "Overlap between sources (persons in both)"},
    "rechtskreis_title": {
        "de": "Personen nach Rechtskreis und Aufenthaltsstatus",
        "en": "Persons by Rechtskreis and residence status",
    },
    "rechtskreis": {"de": "Rechtskreis", "en": "Rechtskreis"},
    "residence_status": {"de": "Aufenthaltsstatus", "en": "Residence status"},
    "transitions_title": {"de": "Rechtskreiswechsel", "en": "Changes of Rechtskreis"},
    "from": {"de": "von", "en": "from"},
    "to": {"de": "nach", "en": "to"},
    "no_transitions": {"de": "Keine Rechtskreiswechsel erfasst.", "en": "No changes of Rechtskreis recorded."},
    "review_title": {"de": "Offene Prüffälle mit Belegen", "en": "Open review items with evidence"},
    "review_shown": {"de": "gezeigt: {shown} von {open}", "en": "shown: {shown} of {open}"},
    "no_review": {"de": "Keine offenen Prüffälle.", "en": "No open review items."},
    "score": {"de": "Wahrscheinlichkeit", "en": "Probability"},
    "person": {"de": "Person", "en": "Person"},
    "evidence": {"de": "Belege", "en": "Evidence"},
    "gaps_title": {"de": "Lücken in der Integrationskette nach Bezirk", "en": "Chain gaps by district"},
    "gaps_note": {
        "de": "Vorläufig: Personen, deren Datensätze alle abgeschlossen sind (Fall beendet oder Abgang beim Jobcenter), "
        "außer Verstorbenen und Ausgereisten. Die Erkennung wird mit dem Issue zum Fallaustausch verfeinert.",
        "en": "Preliminary: persons whose every record is closed (case closed, or left the job centre), "
        "except those who died or left Germany. The case-summary exchange issue will refine it.",
    },
    "district": {"de": "Bezirk", "en": "District"},
    "pseudonyms": {"de": "Pseudonyme (Auszug)", "en": "Pseudonyms (excerpt)"},
    "no_gaps": {"de": "Keine Personen ohne laufenden Fall.", "en": "No persons without a running case."},
    "quality_title": {"de": "Datenqualität je Lieferant", "en": "Data quality per provider"},
    "placeholder_share": {"de": "Anteil Platzhalter-Geburtsdaten", "en": "Share of placeholder birth dates"},
    "precision": {"de": "Genauigkeit Geburtsdatum (Tag/Monat/Jahr/fehlt)", "en": "Birth date precision (day/month/year/missing)"},
    "missing_title": {"de": "Fehlende Angaben (Anteil der Datensätze)", "en": "Missing fields (share of records)"},
    "field": {"de": "Feld", "en": "Field"},
    "reason": {"de": "Grund", "en": "Reason"},
    "rejections_title": {"de": "Abgewiesene Angaben nach Grund", "en": "Rejections by reason"},
    "no_rejections": {"de": "Keine Abweisungen.", "en": "No rejections."},
    "no_data": {"de": "Keine Daten.", "en": "No data."},
    "total": {"de": "gesamt", "en": "total"},
    "cases": {"de": "Fälle", "en": "cases"},
    "unknown": {"de": "unbekannt", "en": "unknown"},
    "left": {"de": "Abgang (Ziel unbekannt)", "en": "left (destination unknown)"},
    "run_title": {"de": "Letzter Lauf", "en": "Last run"},
    "retention_title": {"de": "Letzter Löschlauf", "en": "Last retention run"},
    "closed_erased": {"de": "gelöscht: Fall abgeschlossen", "en": "erased: case closed"},
    "linkage_only_purged": {
        "de": "gelöscht: nur zur Verknüpfung gehalten",
        "en": "purged: held only for linkage",
    },
    "persons_erased": {"de": "Personen gelöscht", "en": "persons erased"},
    "contents": {"de": "Inhalt", "en": "Contents"},
}


def label(key: str, lang: str = "de") -> str:
    """A label in the language; an unknown key (a code) is returned as it is."""
    entry = LABELS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["de"]


__all__ = ["LABELS", "LANGUAGES", "label"]
