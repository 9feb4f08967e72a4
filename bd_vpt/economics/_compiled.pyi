from typing import Any

def states(
    grouped: dict[str, list[dict[str, Any]]], state: type, completion: type, utc: Any, /
) -> dict[str, Any]: ...
def collect(
    rows: dict[tuple[Any, ...], list[Any]], /
) -> (
    tuple[dict[tuple[Any, ...], list[int]], dict[str, dict[str, float]], dict[str, set[str]], int]
    | None
): ...
