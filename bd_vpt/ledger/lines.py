"""What a ledger line may not hold, whatever its JSON says: control bytes, conflict
markers, secrets. One function for the writer, `validate` and the hooks."""

from __future__ import annotations

import re

CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
# decoded string values may hold tab, newline and carriage return (a multi-line evidence note)
CONTROL_DECODED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SECRET = re.compile(
    rb"sk-ant-[A-Za-z0-9_\-]{16,}"  # Anthropic
    rb"|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"  # OpenAI
    rb"|github_pat_[A-Za-z0-9_]{22,}"  # GitHub fine-grained token
    rb"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub classic / OAuth / app tokens
    rb"|\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"  # AWS access key id
    rb"|(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])"
    rb"(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"  # AWS secret key
    rb"|xox[abposr]-[A-Za-z0-9\-]{10,}|xapp-[0-9]-[A-Za-z0-9\-]{10,}"  # Slack tokens
    rb"|hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"  # Slack webhook
    rb"|AIza[0-9A-Za-z_\-]{35}"  # Google API key
    rb"|-----BEGIN[A-Z ]{0,40} PRIVATE KEY(?: BLOCK)?-----"  # PEM / OpenSSH / PGP private keys
)
_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})|\\(.)")
_SIMPLE = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"b": b"\b", b"f": b"\f"}


def unescape(raw: bytes) -> bytes:
    """The line with JSON string escapes resolved (\\u002d -> -, \\/ -> /), even when the
    JSON itself is broken: a key hidden behind escapes is still a key."""

    def one(match: re.Match[bytes]) -> bytes:
        if match.group(1) is not None:
            return chr(int(match.group(1), 16)).encode("utf-8", "surrogatepass")
        char = match.group(2)
        return _SIMPLE.get(char, char)

    return _ESCAPE.sub(one, raw)


def line_problem(raw: bytes) -> str | None:
    """What makes raw (one ledger line, no newline) unfit for the ledger, or None."""
    found = CONTROL.search(raw)
    if found:
        return (
            f"control byte 0x{found.group()[0]:02x} in the line (a ledger line is plain JSON text)"
        )
    if SECRET.search(raw):
        return "a field looks like a secret (an API key, token or private key)"
    if b"\\" in raw:
        plain = unescape(raw)
        if SECRET.search(plain):
            return (
                "a field looks like a secret (an API key, token or private key) behind JSON escapes"
            )
        try:
            text = plain.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            text = ""
        found_text = CONTROL_DECODED.search(text)
        if found_text:
            return f"control character U+{ord(found_text.group()):04X} in a string value"
    return None


# What every match of SECRET holds: one of these literals, or a run of 40 of the AWS secret
# key's characters (each alternative of SECRET starts with a literal of this list but that
# one). A line with none of them, no control byte and no backslash has no line_problem().
_SECRET_LITERALS = re.compile(
    rb"sk-|github_pat_|gh[pousr]_|AKIA|ASIA|ABIA|ACCA|xox[abposr]-|xapp-"
    rb"|hooks\.slack\.com|AIza|-----BEGIN"
)
_RUN = b"a" * 40
_ODD = b"!"
_CLASSES = bytes(
    (
        ord("a")
        if chr(i).isascii() and (chr(i).isalnum() or chr(i) in "/+")
        else ord("!")
        if (i < 0x20 and i != 0x0A) or i in (0x7F, 0x5C)  # control bytes (but \n), backslash
        else ord(" ")
    )
    for i in range(256)
)


def _suspects(payload: bytes) -> list[int]:
    """Offsets of the lines of payload that may have a line_problem() (a superset)."""
    found = {payload.rfind(b"\n", 0, m.start()) + 1 for m in _SECRET_LITERALS.finditer(payload)}
    classes = payload.translate(_CLASSES)
    for needle in (_ODD, _RUN):
        at = classes.find(needle)
        while at >= 0:
            start = payload.rfind(b"\n", 0, at) + 1
            found.add(start)
            end = payload.find(b"\n", at)
            if end < 0:
                break
            at = classes.find(needle, end)
    return sorted(found)


def first_line_problem(payload: bytes) -> tuple[int, str] | None:
    """(index, problem) of the first of payload's lines (each ended by a newline) with a
    line_problem(), or None: what line_problem() over each line finds, in one pass over the
    batch (only a line that may hold a problem is looked at on its own)."""
    for start in _suspects(payload):
        end = payload.find(b"\n", start)
        problem = line_problem(payload[start : end if end >= 0 else len(payload)])
        if problem is not None:
            return payload.count(b"\n", 0, start), problem
    return None
