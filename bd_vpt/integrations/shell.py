"""`bd-vpt shell-init`: a `bd` shell function that sends `bd vpt ...` to bd-vpt."""

from __future__ import annotations

import os

POSIX = """\
# bd-vpt: `bd vpt ...` runs bd-vpt; every other `bd ...` runs the real bd.
bd() {
  if [ "${1-}" = "vpt" ]; then
    shift
    command bd-vpt "$@"
  else
    command bd "$@"
  fi
}
"""

FISH = """\
# bd-vpt: `bd vpt ...` runs bd-vpt; every other `bd ...` runs the real bd.
function bd --wraps bd
    if test (count $argv) -gt 0; and test "$argv[1]" = vpt
        command bd-vpt $argv[2..-1]
    else
        command bd $argv
    end
end
"""


def shell_function(shell: str | None = None) -> str:
    name = shell or os.path.basename(os.environ.get("SHELL", "bash"))
    return FISH if name == "fish" else POSIX
