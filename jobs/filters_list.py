"""`curate filters`: every registered filter, its version, its thresholds with their defaults and
its options, what this version does (the first paragraph of its class's docstring: a `_v2` says how
it differs from `_v1`) and the work it follows (the first paragraph of its module's docstring).

    curate filters                 # all of them
    curate filters c4_v1 pii_v1    # some
    curate filters --json          # for scripts

Thresholds named min_*/max_* keep a document whose score (the name without min_/max_) is at least /
at most the value; null disables the rule. Override them per language under filter.thresholds in
the run config (conf/default.yaml).
"""
from __future__ import annotations

import dataclasses
import json
import re
import sys

from filters.base import TextModifier
from filters.registry import known_filters
from pipeline.cli import tool_parser


def describe(cls: type) -> dict:
    """One filter as plain data: name, version, kind, what it does, thresholds (defaults), options,
    citation."""
    module = sys.modules[cls.__module__]
    version = re.search(r"_v(\d+)$", cls.name)
    return {
        "name": cls.name,
        "version": int(version.group(1)) if version else None,
        "kind": "modifier (rewrites text)" if issubclass(cls, TextModifier) else "filter (scores, then keeps)",
        "module": cls.__module__,
        "prefix": cls.prefix,
        "thresholds": {f.name: _default(f) for f in dataclasses.fields(cls.Thresholds)},
        "options": sorted(cls.OPTIONS),
        "summary": _first_paragraph(cls.__dict__.get("__doc__")),     # its own, not a parent's
        "citation": _first_paragraph(module.__doc__),
    }


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:    # type: ignore[misc]
        return field.default_factory()                       # type: ignore[misc]
    return None


def render(described: list[dict]) -> str:
    lines = []
    for item in described:
        lines.append(f"{item['name']}  (version {item['version']}, {item['kind']}, {item['module']})")
        if item["summary"]:
            lines.append(f"  {item['summary']}")
        lines.append(f"  follows: {item['citation']}")
        if item["thresholds"]:
            width = max(map(len, item["thresholds"]))
            lines.append("  thresholds (default):")
            lines += [f"    {name:<{width}}  {json.dumps(value)}" for name, value in item["thresholds"].items()]
        else:
            lines.append("  thresholds: none (never drops a document)")
        if item["options"]:
            lines.append(f"  options: {', '.join(item['options'])}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = tool_parser("filters_list", __doc__)
    parser.add_argument("names", nargs="*", metavar="FILTER", help="filters to show (default: all)")
    parser.add_argument("--json", action="store_true", help="one JSON document: a list of filters")
    args = parser.parse_args(argv)
    known = known_filters()
    unknown = [name for name in args.names if name not in known]
    if unknown:
        print(f"error: unknown filter '{unknown[0]}' (known: {', '.join(known)})", file=sys.stderr)
        return 2
    described = [describe(known[name]) for name in (args.names or known)]
    sys.stdout.write(json.dumps(described, indent=2) + "\n" if args.json else render(described))
    return 0


if __name__ == "__main__":
    sys.exit(main())
