"""The hub's application services as plain functions, without Prefect: what a sync run does.

    home           the installation's folder and its typed configuration (hub.toml)
    setup          creating a home
    ingest         one source's deliveries: claim, read, map, pseudonymise, store, receipt
    encoded_file   a file's rows as storable records, chunk by chunk (encode_pool: in workers)
    linking        new and changed records into the master index
    push           summaries and notices to each body: plan (``exchange``), deliver, record
    erasure        erasure requests and retention, in the database and the files
    rotation       a new key version, every encoding re-made from the kept deliveries
    source_check   can every source deliver?
    reports, links the coordinator's report and the links export, published into the home

The Prefect flows (``flows``) and the command line (``cli``) call these; so can a test or a
benchmark, with no Prefect server in the way.
"""
