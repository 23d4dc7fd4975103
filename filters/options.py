"""Option checks shared by filters: unknown or mistyped options fail naming the option."""
from __future__ import annotations

from typing import Any, Mapping

from filters.base import FilterConfigError
from pipeline.text import SEGMENTATIONS

# Used when the job passes no `segmentation` option: scripts written without spaces.
DEFAULT_SEGMENTATION = {"default": "whitespace", "zh": "chars", "ja": "chars", "th": "chars",
                        "lo": "chars", "km": "chars", "my": "chars", "bo": "chars"}


def check_options(name: str, options: Mapping[str, Any], known: Mapping[str, type | tuple]) -> None:
    """FilterConfigError naming the first unknown or mistyped option."""
    for key, value in options.items():
        if key not in known:
            raise FilterConfigError(f"unknown option '{name}.{key}' (known: {', '.join(sorted(known))})")
        if value is not None and not isinstance(value, known[key]):
            raise FilterConfigError(f"option '{name}.{key}' has the wrong type: {value!r}")


def segmentation_table(name: str, options: Mapping[str, Any]) -> dict[str, str]:
    """The `segmentation` option ({lang: whitespace|chars}), checked; defaults when absent."""
    table = dict(options.get("segmentation") or DEFAULT_SEGMENTATION)
    for lang, value in table.items():
        if value not in SEGMENTATIONS:
            raise FilterConfigError(f"option '{name}.segmentation.{lang}' must be one of "
                                    f"{', '.join(SEGMENTATIONS)}, got {value!r}")
    return table
