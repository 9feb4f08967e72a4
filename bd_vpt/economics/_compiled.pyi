from typing import Any

def states(
    grouped: dict[str, list[dict[str, Any]]],
    state: type,
    completion: type,
    utc: Any,
    held: dict[str, tuple[tuple[dict[str, Any], ...], Any]] | None = None,
    keep: bool = True,
    /,
) -> dict[str, Any]: ...
def collect(
    rows: dict[tuple[Any, ...], list[Any]], period_of: Any = None, window: Any = None, /
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
def spikes_found(
    rows: dict[tuple[Any, ...], list[Any]],
    factor: float,
    history: int,
    day_lookback: int,
    session_lookback: int,
    /,
) -> tuple[list[tuple[str, int, int | float]], list[tuple[str, int, int | float]]] | None: ...
def group(
    outcomes: list[dict[str, Any]],
    grouped: dict[str, list[dict[str, Any]]],
    since: str | None,
    until: str | None,
    counted: bool,
    days: dict[str, int] | None = None,
    /,
) -> int | None: ...
def tail_rows(
    states: dict[str, Any] | tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]],
    buckets: dict[tuple[Any, ...], list[int]],
    index: dict[str, int] | None,
    bounds: list[int],
    bead_days: dict[str, dict[str, float]],
    unpriced_days: dict[str, set[str]],
    weights: dict[str, float],
    human_rate: float,
    limit: float,
    state: type,
    completion: type,
    /,
) -> (
    tuple[
        list[tuple[list[int], int, int, int, float, int, int, int, int, list[float], bool]],
        dict[str, int],
    ]
    | None
): ...
def tail_wide(
    buckets: dict[tuple[Any, ...], list[int]],
    states: dict[str, Any],
    limit: float,
    state: type,
    completion: type,
    /,
) -> tuple[list[int], int, int, int, int, int, dict[str, list[int]]] | None: ...
def tail_differing(grouped: dict[str, list[Any]], like: dict[str, list[Any]], /) -> list[str]: ...
