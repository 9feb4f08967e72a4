"""The ledger: append-only JSONL records in git and everything about reading them.

It owns the record format and the one validator (records, schemas, lines), the one write
path (writer: lock, dedupe, repair, fsync; known: what the ledger holds; undo), the parser
(store), the views a report reads (view: working tree, --rev, --range; retractions and
source_ref duplicates are left out there), the per-blob cache and the memo of finished
reports, and the history walk over commits. Nothing here computes a figure (that is
economics/) or renders one (render/).
"""
