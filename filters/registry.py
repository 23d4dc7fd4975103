"""Filters by versioned name; an unknown name fails listing the known ones."""
from __future__ import annotations

import importlib

from filters.base import DocumentFilter, FilterConfigError, TextModifier

_REGISTRY: dict[str, type] = {}
# Modules whose import registers filters; listed so a name resolves without importing by hand.
_MODULES = ("filters.gopher_quality", "filters.gopher_repetition", "filters.c4", "filters.fineweb",
            "filters.nsfw", "filters.pii", "filters.token_outlier")


def register(cls: type) -> type:
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"filter name registered twice: {cls.name}")
    _REGISTRY[cls.name] = cls
    return cls


def known_filters() -> dict[str, type]:
    for module in _MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
    return dict(sorted(_REGISTRY.items()))


def get_filter(name: str) -> type[DocumentFilter] | type[TextModifier]:
    known = known_filters()
    if name not in known:
        raise FilterConfigError(f"unknown filter '{name}' (known: {', '.join(known)})")
    return known[name]
