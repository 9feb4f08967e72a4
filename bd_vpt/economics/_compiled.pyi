from typing import Any

def states(
    grouped: dict[str, list[dict[str, Any]]], state: type, completion: type, utc: Any, /
) -> dict[str, Any]: ...
def collect(
    rows: dict[tuple[Any, ...], list[Any]], period_of: Any = None, /
) -> (
    tuple[dict[tuple[Any, ...], list[int]], dict[str, dict[str, float]], dict[str, set[str]], int]
    | None
): ...
def fleet(
    moving: Any,
    bead_days: dict[str, dict[str, float]],
    unpriced_days: dict[str, set[str]],
    weights: dict[str, float],
    human_rate: float,
    since: Any,
    until: Any,
    limit: float,
    state: type,
    completion: type,
    /,
) -> tuple[list[str], float, int, list[str], int, int, list[float], bool] | None: ...
