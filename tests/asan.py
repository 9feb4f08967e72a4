"""Run the tests of one of bd-vpt's compiled parts against a build of it in another folder (a
sanitizer build, say: see the docstrings of tests/test_lane.py and tests/test_compiled.py), in
place of the installed one.

    python -m tests.asan lane FOLDER       # bd_vpt.ledger._lane: tests/test_lane.py
    python -m tests.asan compiled FOLDER   # bd_vpt.economics._compiled: its test files
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# part -> (module, the attribute of the module that holds it, the tests)
PARTS = {
    "lane": ("bd_vpt.ledger._lane", ("bd_vpt.ledger.fast", "LANE"), ["tests/test_lane.py"]),
    "compiled": (
        "bd_vpt.economics._compiled",
        ("bd_vpt.economics.timeline", "COMPILED"),
        [
            "tests/test_compiled.py",
            "tests/test_held_states.py",
            "tests/test_grouped.py",
            "tests/test_fleet_tail.py",
            "tests/test_fleetwide.py",
        ],
    ),
}


def main(part: str, folder: str) -> int:
    name, (holder, attribute), tests = PARTS[part]
    [built] = sorted(Path(folder).glob(f"{name.rsplit('.', 1)[1]}.*.so"))
    spec = importlib.util.spec_from_file_location(name, built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    setattr(importlib.import_module(holder), attribute, module)
    import pytest

    return pytest.main(["-q", "-p", "no:cacheprovider", *tests])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
