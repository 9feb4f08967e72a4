def fold(
    data: bytes, /
) -> (
    tuple[dict[tuple[object, ...], list[object]], bytes, bytes, list[tuple[int, bytes]], int] | None
): ...
