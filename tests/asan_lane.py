"""Run tests/test_lane.py against a build of the compiled lane in another folder (a sanitizer
build, say: see test_lane.py's docstring), in place of the installed one.

    python -m tests.asan_lane FOLDER
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main(folder: str) -> int:
    [built] = sorted(Path(folder).glob("_lane.*.so"))
    spec = importlib.util.spec_from_file_location("bd_vpt.ledger._lane", built)
    assert spec is not None and spec.loader is not None
    lane = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lane)
    sys.modules["bd_vpt.ledger._lane"] = lane
    from bd_vpt.ledger import fast

    fast.LANE = lane
    import pytest

    return pytest.main(["-q", "-p", "no:cacheprovider", "tests/test_lane.py"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
