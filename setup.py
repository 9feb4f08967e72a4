"""The compiled parts: the fold's fast lane (bd_vpt/ledger/lane/*.c, the module
bd_vpt.ledger._lane) and the figures' hot loops (bd_vpt/economics/compiled/*.c, the module
bd_vpt.economics._compiled). Optional: where they cannot be built (no C compiler), bd-vpt installs
without them and does the same in Python, with the same results (bd_vpt/ledger/fast.py,
bd_vpt/economics/timeline.py)."""

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
        Extension(
            "bd_vpt.economics._compiled",
            sorted(glob("bd_vpt/economics/compiled/*.c")),
            depends=["bd_vpt/economics/compiled/compiled.h"],
            optional=True,
        ),
    ]
)
