"""Canonical model names: the one normalisation used to price usage at capture and to group
it at read. The record keeps the id as the agent reported it (`model`); reports group by
canonical(model), so `claude-sonnet-4-5-20250929`, `anthropic/claude-sonnet-4-5` and
`us.anthropic.claude-sonnet-4-5-20250929-v1:0` are one model.

The rules (pure string work, no price data imported, so hooks stay fast):

1. lower case, surrounding blanks dropped;
2. routing prefixes up to the last `/` dropped (`anthropic/`, `openrouter/anthropic/`,
   `bedrock/`, `vertex_ai/`, `models/`, an inference-profile ARN); `bedrock`, `vertex` and
   `azure` in them name the cloud that served the call;
3. a Vertex AI version suffix (`claude-sonnet-4-5@20250929`) dropped: served by Google;
4. a Bedrock id (`[region.]vendor.NAME[-vN[:M]]`, as `us.anthropic.claude-sonnet-4-5-20250929-v1:0`)
   reduced to NAME: served by AWS;
5. trailing release dates (`-20250929`, `-2024-08-06`) and `-latest` dropped;
6. Claude version numbers written with dots (`claude-sonnet-4.5`, the price dataset's own
   alias) written with dashes, as Anthropic's ids are.

A different model priced the same stays itself: `gpt-5-codex` is not `gpt-5`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

_REGIONS = r"(?:us-gov|global|apac|us|eu|au|jp|ca|in|sa)"
_VENDORS = (
    r"(?:anthropic|meta|amazon|mistral|cohere|ai21|deepseek|openai|qwen|writer|google|"
    r"moonshotai|zai|nvidia)"
)
_BEDROCK = re.compile(rf"^(?:{_REGIONS}\.)?{_VENDORS}\.(?P<name>.+?)(?:-v\d+(?::\d+)?|:\d+)?$")
_DATED = re.compile(r"-(?:(?P<y>20\d\d)-?(?P<m>\d\d)-?(?P<d>\d\d)|latest)$")
_DOTTED = re.compile(r"(?<=\d)\.(?=\d)")

# the cloud a routing prefix names (None: a prefix that names no host)
_HOSTS = (("bedrock", "aws"), ("vertex", "google"), ("azure", "azure"))

# who makes a model, by the start of its canonical name
_MAKERS = (
    ("claude", "anthropic"),
    ("gpt-", "openai"),
    ("chatgpt", "openai"),
    ("codex", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("gemini", "google"),
    ("gemma", "google"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("codestral", "mistral"),
    ("devstral", "mistral"),
    ("magistral", "mistral"),
    ("ministral", "mistral"),
    ("pixtral", "mistral"),
    ("llama", "meta"),
    ("deepseek", "deepseek"),
    ("grok", "x-ai"),
    ("qwen", "alibaba"),
    ("kimi", "moonshotai"),
    ("nova", "amazon"),
    ("titan", "amazon"),
    ("command", "cohere"),
    ("glm", "zai"),
)

DISPLAY = {
    "anthropic": "Anthropic",
    "openai": "OpenAI",
    "google": "Google",
    "mistral": "Mistral AI",
    "meta": "Meta",
    "deepseek": "DeepSeek",
    "x-ai": "xAI",
    "alibaba": "Alibaba Cloud",
    "moonshotai": "Moonshot AI",
    "amazon": "Amazon",
    "cohere": "Cohere",
    "zai": "Z.ai",
    "aws": "Amazon Web Services",
    "azure": "Microsoft",
    "openrouter": "OpenRouter",
}


@dataclass(frozen=True)
class ModelName:
    raw: str
    canonical: str
    host: str | None  # the cloud that served the call, when the id says so (aws, google, azure)
    maker: str | None  # who makes the model (anthropic, openai, google, ...)


def _undated(name: str) -> str:
    while True:
        found = _DATED.search(name)
        if found is None:
            return name
        if found["y"]:
            try:
                date(int(found["y"]), int(found["m"]), int(found["d"]))
            except ValueError:
                return name
        name = name[: found.start()]


@lru_cache(maxsize=8192)
def parse(raw: str) -> ModelName:
    """The canonical name of a model id, with the host and maker the id reveals."""
    name = raw.strip().lower()
    host: str | None = None
    if "/" in name:
        *prefixes, name = name.split("/")
        for prefix in prefixes:
            host = host or next((h for key, h in _HOSTS if key in prefix), None)
        if not name:  # "anthropic/": nothing after the slash
            name = raw.strip().lower().strip("/")
    if "@" in name:
        name = name.partition("@")[0]
        host = host or "google"
    bedrock = _BEDROCK.match(name)
    if bedrock is not None:
        name = bedrock["name"]
        host = host or "aws"
    name = _undated(name)
    if name.startswith("claude"):
        name = _DOTTED.sub("-", name)
    name = name or raw.strip().lower()
    maker = next((who for start, who in _MAKERS if name.startswith(start)), None)
    if host == "openrouter":
        host = None
    return ModelName(raw, name, host, maker)


def canonical(raw: str) -> str:
    return parse(raw).canonical


def display(who: str | None) -> str:
    """A company's name as FOCUS columns and tables show it."""
    if not who:
        return "Unknown"
    return DISPLAY.get(who, who.title())
