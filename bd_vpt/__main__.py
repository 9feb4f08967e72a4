from __future__ import annotations

from bd_vpt.cli import main

raise SystemExit(main())
