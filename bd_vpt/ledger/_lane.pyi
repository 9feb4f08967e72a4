from typing import Any

def fold(
    data: bytes, /
) -> tuple[dict[tuple[Any, ...], list[Any]], bytes, bytes, list[tuple[int, Any]], int] | None: ...
