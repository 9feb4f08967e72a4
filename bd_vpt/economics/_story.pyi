from typing import Any

def states(
    grouped: dict[str, list[dict[str, Any]]], state: type, completion: type, utc: Any, /
) -> dict[str, Any]: ...
