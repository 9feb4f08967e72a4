"""Shipped demo data: beads and agent activity for `bd-vpt demo`."""
