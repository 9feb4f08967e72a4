from __future__ import annotations

from bd_vpt.launch import main

raise SystemExit(main())
