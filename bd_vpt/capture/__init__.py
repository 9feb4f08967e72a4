"""Capture sources: each turns some evidence of work into ledger records."""
