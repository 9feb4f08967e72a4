"""The compiled parts: the fold's fast lane (bd_vpt/ledger/lane/*.c, the module
bd_vpt.ledger._lane), the figures' hot loops (bd_vpt/economics/compiled/*.c, the module
bd_vpt.economics._compiled) and the reader of Claude Code transcripts (bd_vpt/capture/lane/*.c,
the module bd_vpt.capture._claude). Optional: where they cannot be built (no C compiler), bd-vpt
installs without them and does the same in Python, with the same results
(bd_vpt/ledger/fast.py, bd_vpt/economics/timeline.py, bd_vpt/capture/claude_code.py)."""

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
        Extension(
            "bd_vpt.capture._claude",
            sorted(glob("bd_vpt/capture/lane/*.c")),
            depends=["bd_vpt/capture/lane/claude.h"],
            optional=True,
        ),
    ]
)
