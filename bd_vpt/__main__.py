from __future__ import annotations

from bd_vpt.launch import run

run()
