#!/usr/bin/env sh
# bd-vpt git hook: HOOK_NAME
# bd-vpt-hook-id: 6f1c2a9e  (installed by `bd-vpt hooks install`; `bd-vpt hooks uninstall` restores what was here)
# (no dirname process: a hook runs at every commit)
case $0 in */*) HERE=$(cd "${0%/*}" && pwd) ;; *) HERE=$(pwd) ;; esac
# a hook that was here before bd-vpt runs first; its failure is ours
if [ -x "$HERE/HOOK_NAME.legacy" ]; then
    "$HERE/HOOK_NAME.legacy" "$@" || exit $?
fi
# the interpreter that installed bd-vpt, else bd-vpt on PATH
INSTALL_PYTHON='INSTALL_PYTHON_PATH'
if [ -x "$INSTALL_PYTHON" ]; then
    exec "$INSTALL_PYTHON" -c "import sys; from bd_vpt.hookrun import main; sys.exit(main())" HOOK_NAME "$@"
elif command -v bd-vpt >/dev/null 2>&1; then
    exec bd-vpt hook HOOK_NAME "$@"
fi
echo "bd-vpt: not installed any more; skipping the HOOK_NAME hook (bd-vpt hooks uninstall removes it)" >&2
exit 0
