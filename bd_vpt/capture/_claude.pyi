from typing import Any

def read(
    text: bytes, first: int, message: type[Any], /
) -> tuple[list[Any], int, int, int, int, int, set[str] | None]: ...
def dedupe(
    messages: list[Any], barred: set[str] | None, /
) -> tuple[dict[str, Any], int, int, set[str], bytes]: ...
