"""The pre-commit hook's line checks: secrets (raw and JSON-escaped), NUL and control bytes,
even when git calls the shard binary."""

from __future__ import annotations

import pytest

from tests.helpers import Repo, run_cli, ulid, usage

SHARD = ".beads/vpt/ledger/2026-11/w-000000.jsonl"
# built from pieces so that this file itself holds no key a scanner would flag
SECRETS = {
    "github_pat": "github_pat_" + "11ABCDEFG0" + "A" * 12 + "_" + "b" * 59,
    "ghp": "ghp_" + "a1B2" * 9,
    "gho": "gho_" + "Z9y8" * 9,
    "aws_access_key": "AKIA" + "IOSFODNN7EXAMPLE",
    "aws_secret_key": "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY",
    "slack": "xoxb-" + "123456789012-" + "abcdefghijKLMN",
    "slack_webhook": "https://hooks.slack.com/services/" + "T0123ABCD/B0123ABCD/" + "a" * 24,
    "google_api_key": "AIza" + "SyA-" + "1234567890abcdefghijklmnopqrstu",
    "private_key": "-----BEGIN " + "OPENSSH PRIVATE KEY-----",
    "anthropic": "sk-ant-" + "api03-" + "x" * 30,
    "openai": "sk-proj-" + "y" * 40,
}


def escaped(secret: str) -> str:
    """The JSON text of secret with every other character written as a \\uXXXX escape."""
    return "".join(f"\\u{ord(c):04x}" if i % 2 else c for i, c in enumerate(secret))


def stage_line(repo: Repo, raw: bytes) -> None:
    path = repo.root / SHARD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw + b"\n")
    repo.git("add", SHARD)


def line_with(value_json: str) -> bytes:
    import orjson

    record = usage(ulid(1), "2026-11-20T10:00:00.000Z", "b-1", "a", "m", 1, 1)
    text = orjson.dumps({**record, "session": "PLACEHOLDER"}).decode()
    return text.replace('"PLACEHOLDER"', value_json).encode()


@pytest.mark.parametrize("form", ["raw", "escaped"])
@pytest.mark.parametrize("name", sorted(SECRETS))
def test_every_secret_blocks_the_commit(repo: Repo, name: str, form: str) -> None:
    secret = SECRETS[name]
    value = secret if form == "raw" else escaped(secret)
    stage_line(repo, line_with(f'"{value}"'))
    result = run_cli("hook", "validate")
    assert result.code == 1, (name, form, result.err)
    assert "secret" in result.err
    assert secret not in result.err  # the key itself is never printed


def test_a_nul_byte_blocks_even_though_git_calls_the_shard_binary(repo: Repo) -> None:
    stage_line(repo, line_with('"a\x00b"'))
    assert repo.git("diff", "--cached", "--numstat").startswith("-\t-\t")  # binary to git
    result = run_cli("hook", "validate")
    assert result.code == 1 and "0x00" in result.err


@pytest.mark.parametrize("char", ["\\u0000", "\\u001b", "\x1b", "\r"])
def test_control_characters_block(repo: Repo, char: str) -> None:
    stage_line(repo, line_with(f'"a{char}b"'))
    assert run_cli("hook", "validate").code == 1


def test_a_commit_hash_and_ids_are_not_secrets(repo: Repo) -> None:
    stage_line(repo, line_with('"0123456789abcdef0123456789abcdef01234567"'))
    assert run_cli("hook", "validate").code == 0


@pytest.mark.parametrize("value", [escaped(SECRETS["github_pat"]), '"a\x00b"'])
def test_a_real_commit_is_blocked(repo: Repo, value: str) -> None:
    import subprocess

    assert run_cli("hooks", "install").code == 0
    quoted = value if value.startswith('"') else f'"{value}"'
    stage_line(repo, line_with(quoted))
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "leak"], cwd=repo.root, capture_output=True, text=True
    )
    assert proc.returncode != 0 and "commit blocked" in proc.stderr
    assert repo.git("rev-list", "--all") == ""  # nothing committed


def test_validate_reports_the_same_lines(repo: Repo) -> None:
    path = repo.root / SHARD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(line_with(f'"{escaped(SECRETS["aws_secret_key"])}"') + b"\n")
    result = run_cli("validate")
    assert result.code == 2 and "secret" in result.out
