"""The config-file loader every configuration of the project shares: YAML -> typed dataclasses.

`load_dataclass(cls, path, overrides)` reads a YAML mapping, applies `key=value` overrides (dotted
keys, values parsed as YAML) and builds `cls`, a tree of dataclasses. An unknown key or a value of
the wrong type raises ConfigError naming the dotted key and the file, one line, so a command can
print it and exit with status 2. Semantic checks (ranges, files) belong to the config's owner.
"""
from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration problem the user must fix; the message is one line."""


def load_dataclass(cls: type[T], path: str | os.PathLike | None, overrides: list[str] = ()) -> T:
    """`cls` built from the YAML file at `path` (None: the defaults) with `key=value` overrides."""
    raw: dict[str, Any] = read_yaml(Path(path)) if path else {}
    for item in overrides:
        key, value = parse_override(item)
        set_dotted(raw, key, value, where="--set")
    return build(cls, raw, prefix="", where=str(path) if path else "<defaults>")


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{at} invalid YAML ({getattr(err, 'problem', err)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, not {type(data).__name__}")
    return data


def parse_override(item: str) -> tuple[str, Any]:
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected key=value, e.g. --set extract.timeout_s=5")
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        value = text
    return key.strip(), value


def set_dotted(tree: dict[str, Any], dotted: str, value: Any, where: str) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{where}: key '{dotted}': '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def build(cls: type, raw: Any, prefix: str, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: key '{prefix.rstrip('.') or '<top>'}' must be a mapping, got {_kind(raw)}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"{where}: unknown key '{prefix}{key}' (known in this section: {', '.join(sorted(known))})")
    values = {}
    for name in known:
        if name in raw:
            values[name] = coerce(hints[name], raw[name], f"{prefix}{name}", where)
    return cls(**values)


def coerce(hint: Any, value: Any, key: str, where: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return build(hint, value, prefix=f"{key}.", where=where)
    origin = typing.get_origin(hint)
    if origin is list:
        (item_type,) = typing.get_args(hint)
        if isinstance(value, str):  # a single glob or stage is a one-item list
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: key '{key}' must be a list, got {_kind(value)}")
        return [coerce(item_type, v, f"{key}[{i}]", where) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: key '{key}' must be a mapping, got {_kind(value)}")
        _, value_type = typing.get_args(hint)
        if value_type is Any:  # checked by the owner of the section (e.g. a filter's thresholds)
            return {str(k): v for k, v in value.items()}
        return {str(k): coerce(value_type, v, f"{key}.{k}", where) if value_type is not str else str(v)
                for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unsupported config type {hint} for {key}")
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: key '{key}' must be true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: key '{key}' must be an integer, got {_kind(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: key '{key}' must be a number, got {_kind(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: key '{key}' must be a string, got {_kind(value)}")
        return value
    raise TypeError(f"unsupported config type {hint} for {key}")


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]
