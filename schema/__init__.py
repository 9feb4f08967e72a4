"""JSON Schemas of bd-vpt records and config (shipped as package data)."""
