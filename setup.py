"""The one compiled part: the fold's fast lane (bd_vpt/ledger/lane/*.c, the module
bd_vpt.ledger._lane). Optional: where it cannot be built (no C compiler), bd-vpt installs
without it and folds in Python, with the same results (bd_vpt/ledger/fast.py)."""

from glob import glob

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "bd_vpt.ledger._lane",
            sorted(glob("bd_vpt/ledger/lane/*.c")),
            depends=["bd_vpt/ledger/lane/lane.h"],
            optional=True,
        ),
    ]
)
