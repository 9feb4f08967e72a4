"""The ledger: append-only JSONL records in git and everything about reading them.

It owns the record format (records, schemas), the one write path and the parser (store),
the views a report reads (view: working tree, --rev, --range), the per-blob cache and the
memo of finished reports, the history walk over commits, and the hook spool. Nothing here
computes a figure (that is economics/) or renders one (render/).
"""
