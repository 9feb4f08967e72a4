"""Bead facts at capture time: the bd CLI and the files of every beads era, and `sync`,
which turns bead transitions into outcome records. Reports never read this package: an
outcome carries its bead's snapshot.
"""
