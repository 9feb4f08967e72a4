"""Run the tests of economics' compiled parts against a build of them in another folder (a
sanitizer build, say: see test_compiled.py's docstring), in place of the installed one.

    python -m tests.asan_compiled FOLDER
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main(folder: str) -> int:
    [built] = sorted(Path(folder).glob("_compiled.*.so"))
    spec = importlib.util.spec_from_file_location("bd_vpt.economics._compiled", built)
    assert spec is not None and spec.loader is not None
    compiled = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compiled)
    sys.modules["bd_vpt.economics._compiled"] = compiled
    from bd_vpt.economics import timeline

    timeline.COMPILED = compiled
    import pytest

    tests = ["tests/test_compiled.py", "tests/test_held_states.py", "tests/test_grouped.py"]
    return pytest.main(["-q", "-p", "no:cacheprovider", *tests])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
