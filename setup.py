"""The one compiled part: the fold's fast lane (bd_vpt/ledger/_lane.c). Optional: where it
cannot be built (no C compiler), bd-vpt installs without it and folds in Python, with the
same results (bd_vpt/ledger/fast.py)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("bd_vpt.ledger._lane", ["bd_vpt/ledger/_lane.c"], optional=True),
    ]
)
