"""The Prefect flows, their schedules and the process set-up Prefect needs; thin, no rules.

    sync            the flows (sync, push, report, retention, re-estimation) and their tasks
    schedule        `kim-hub serve`: one deployment per source plus the maintenance flows
    report_task     the report step of a sync run, with its counts-only Prefect artifact
    nothing_to_do   a sync with nothing to do, answered before Prefect is imported and recorded on its server
    prefect_setup   Prefect's state inside the home, its logging (logging.yml), nothing leaked
    boundary        every task's and flow's body: only a StepError (step and kind) leaves it
    redaction       the redacting log filter and the value-free traceback (no message, no locals)

Tasks wrap the plain functions of ``pipeline`` and pass references (a home path), never
personal data; see ../shared/PREFECT-NOTES.md for why.
"""
