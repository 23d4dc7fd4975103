"""Mixture arithmetic: token counts per (language, source, domain) -> sampling weights.

Pure Python (no Spark, no I/O beyond reading a counts file); jobs/mix.py wires it to a run.

A *bucket* is one (lang, source, domain) with the tokens available in it (domain may be None).
Every method returns shares p over buckets (summing to 1); `plan()` turns shares and a total token
budget into target tokens and effective epochs per bucket (target / available), and the weights the
tokenize job reads: `{"<lang>/<source>": epochs}` (tokenize.mix / tokenize.mix_file). The tokenize job
keys weights by (lang, source) only, so buckets that differ only by domain are merged there: the
weight of a (lang, source) is its total target over its total available tokens (mass preserving).

Methods
  natural       p_i = n_i / sum n
  temperature   p_i ∝ n_i^(1/T)  (T=1 natural, T→∞ uniform; XLM-R / mT5 style, per language)
  unimax        Chung et al. 2023: the budget is spread uniformly over languages, each language capped
                at max_epochs × its tokens; what a capped language cannot take goes to the others
                (languages visited from smallest to largest). Within a language: natural proportions.
  targets       explicit shares for groups of buckets (e.g. Llama 3: 50% general, 25% math_reasoning,
                17% code, 8% multilingual), each group split internally by natural or temperature.
  + min_lang_share: a floor on the share of given languages, the others scaled down to make room.
  + max_epochs with redistribute: clip every bucket at max_epochs and hand the excess to the rest.
"""
from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

METHODS = ("natural", "temperature", "unimax", "targets")


class MixError(ValueError):
    """A mix spec or a counts file that cannot be used; the message names the key and what to do."""


@dataclass(frozen=True)
class Bucket:
    lang: str
    source: str
    domain: str | None
    tokens: int

    @property
    def mix_key(self) -> str:
        """The tokenize job's key: '<lang>/<source>'."""
        return f"{self.lang}/{self.source}"

    @property
    def name(self) -> str:
        return self.mix_key + (f"#{self.domain}" if self.domain else "")


# --- shares ---------------------------------------------------------------------------------------

def natural(buckets: list[Bucket]) -> list[float]:
    total = sum(b.tokens for b in buckets)
    if total <= 0:
        raise MixError("no tokens in any bucket: nothing to mix")
    return [b.tokens / total for b in buckets]


def temperature(buckets: list[Bucket], t: float) -> list[float]:
    """p_i ∝ n_i^(1/T); empty buckets get 0."""
    if not t > 0:
        raise MixError(f"temperature T must be > 0, got {t}")
    raw = [b.tokens ** (1.0 / t) if b.tokens > 0 else 0.0 for b in buckets]
    total = sum(raw)
    if total <= 0:
        raise MixError("no tokens in any bucket: nothing to mix")
    return [r / total for r in raw]


def unimax(buckets: list[Bucket], budget: float, max_epochs: float) -> list[float]:
    """UniMax (Chung et al. 2023, Algorithm 1) over languages, natural within a language.

    Languages are visited in increasing order of tokens; each gets min(remaining budget / languages
    left, max_epochs × its tokens). Shares are relative to the tokens actually allocated, which is
    less than the budget when every language is capped (plan() warns then).
    """
    if not max_epochs > 0:
        raise MixError(f"unimax: max_epochs must be > 0, got {max_epochs}")
    per_lang: dict[str, int] = {}
    for b in buckets:
        per_lang[b.lang] = per_lang.get(b.lang, 0) + b.tokens
    langs = sorted((l for l in per_lang if per_lang[l] > 0), key=lambda l: (per_lang[l], l))
    remaining, alloc = float(budget), {}
    for i, lang in enumerate(langs):
        alloc[lang] = min(remaining / (len(langs) - i), max_epochs * per_lang[lang])
        remaining -= alloc[lang]
    allocated = sum(alloc.values())
    if allocated <= 0:
        raise MixError("unimax: no tokens in any language")
    return [alloc.get(b.lang, 0.0) * b.tokens / per_lang[b.lang] / allocated if per_lang[b.lang] else 0.0
            for b in buckets]


def matches(bucket: Bucket, where: dict[str, Any]) -> bool:
    """where: {lang|source|domain: glob or [globs]}; a leading '!' negates one glob. All fields must match."""
    for field_name, want in where.items():
        if field_name not in ("lang", "source", "domain"):
            raise MixError(f"group filter key '{field_name}': use lang, source or domain")
        value = getattr(bucket, field_name) or ""
        options = want if isinstance(want, list) else [want]
        positive = [str(o) for o in options if not str(o).startswith("!")]
        negative = [str(o)[1:] for o in options if str(o).startswith("!")]
        if positive and not any(fnmatch.fnmatchcase(value, p) for p in positive):
            return False
        if any(fnmatch.fnmatchcase(value, n) for n in negative):
            return False
    return True


def targets(buckets: list[Bucket], groups: list[dict[str, Any]]) -> list[float]:
    """Explicit shares per group; a bucket belongs to the first group whose `where` it matches.

    groups: [{name, share, where: {...}, inner: natural | {temperature: T}}]; shares are normalised
    to sum to 1 over the groups that hold tokens (a group with no tokens is an error: its share
    could not be met).
    """
    if not groups:
        raise MixError("targets: 'groups' is empty")
    owner: list[int | None] = []
    for b in buckets:
        owner.append(next((g for g, spec in enumerate(groups) if matches(b, spec.get("where") or {})), None))
    orphans = [b.name for b, o in zip(buckets, owner) if o is None and b.tokens > 0]
    if orphans:
        raise MixError(f"targets: buckets {orphans[:8]} match no group; add a catch-all group "
                       "(where: {}) or widen a filter")
    total_share = sum(float(g["share"]) for g in groups)
    if not total_share > 0:
        raise MixError("targets: group shares must sum to > 0")
    shares = [0.0] * len(buckets)
    for g, spec in enumerate(groups):
        members = [i for i, o in enumerate(owner) if o == g]
        if float(spec["share"]) > 0 and not sum(buckets[i].tokens for i in members):
            raise MixError(f"targets: group '{spec.get('name', g)}' has share {spec['share']} but no tokens")
        if not members or float(spec["share"]) == 0:
            continue
        inner = spec.get("inner", "natural")
        sub = [buckets[i] for i in members]
        if inner == "natural":
            within = natural(sub)
        elif isinstance(inner, dict) and "temperature" in inner:
            within = temperature(sub, float(inner["temperature"]))
        else:
            raise MixError(f"targets: group '{spec.get('name', g)}' inner must be 'natural' or "
                           f"{{temperature: T}}, got {inner!r}")
        for i, w in zip(members, within):
            shares[i] = float(spec["share"]) / total_share * w
    return shares


def apply_min_lang_share(buckets: list[Bucket], shares: list[float], minimum: dict[str, float]) -> list[float]:
    """Raise each listed language ('*' = every language) to at least its minimum share, scaling the
    unfixed languages down proportionally; repeats until no floor is violated. Within a language the
    relative shares are kept."""
    langs = sorted({b.lang for b in buckets if b.tokens > 0})
    floor = {l: float(minimum.get(l, minimum.get("*", 0.0))) for l in langs}
    if sum(floor.values()) > 1 + 1e-9:
        raise MixError(f"min_lang_share: floors sum to {sum(floor.values()):.3f} > 1")
    lang_share = {l: sum(s for b, s in zip(buckets, shares) if b.lang == l) for l in langs}
    fixed: set[str] = set()
    current = dict(lang_share)
    while True:
        free = [l for l in langs if l not in fixed]
        mass_fixed = sum(floor[l] for l in fixed)
        base = sum(lang_share[l] for l in free)
        current = {l: floor[l] for l in fixed}
        current.update({l: (1 - mass_fixed) * lang_share[l] / base if base else 0.0 for l in free})
        violated = [l for l in free if current[l] < floor[l] - 1e-12]
        if not violated:
            break
        fixed.update(violated)
    return [s * current[b.lang] / lang_share[b.lang] if lang_share.get(b.lang) else 0.0
            for b, s in zip(buckets, shares)]


def cap_epochs(buckets: list[Bucket], shares: list[float], budget: float, max_epochs: float) -> list[float]:
    """Clip each bucket at max_epochs × its tokens and give the excess to the unclipped buckets in
    proportion to their shares (water-filling). Shares stay relative to the budget, so when every
    bucket is clipped they sum to less than 1 and plan() reports the shortfall."""
    target = [s * budget for s in shares]
    capped: set[int] = set()
    while True:
        cap = [max_epochs * b.tokens for b in buckets]
        over = [i for i, t in enumerate(target) if i not in capped and t > cap[i] * (1 + 1e-12)]
        if not over:
            break
        capped.update(over)
        for i in over:
            target[i] = cap[i]
        left = budget - sum(target[i] for i in capped)
        free = [i for i in range(len(buckets)) if i not in capped]
        base = sum(shares[i] for i in free)
        for i in free:
            target[i] = left * shares[i] / base if base else 0.0
    return [t / budget for t in target]


# --- the plan -------------------------------------------------------------------------------------

def compute_shares(buckets: list[Bucket], spec: dict[str, Any], budget: float) -> list[float]:
    """spec: {method, temperature, max_epochs, groups, min_lang_share, redistribute} (see the module doc)."""
    method = spec.get("method", "natural")
    if method == "natural":
        shares = natural(buckets)
    elif method == "temperature":
        shares = temperature(buckets, float(spec.get("temperature", 1.0)))
    elif method == "unimax":
        if "max_epochs" not in spec:
            raise MixError("unimax needs 'max_epochs' (the per-language epoch cap, e.g. 4)")
        shares = unimax(buckets, budget, float(spec["max_epochs"]))
    elif method == "targets":
        shares = targets(buckets, spec.get("groups") or [])
    else:
        raise MixError(f"unknown method '{method}'; known: {', '.join(METHODS)}")
    if spec.get("min_lang_share"):
        shares = apply_min_lang_share(buckets, shares, spec["min_lang_share"])
    if spec.get("redistribute") and spec.get("max_epochs") and method != "unimax":  # unimax caps already
        shares = cap_epochs(buckets, shares, budget, float(spec["max_epochs"]))
    return shares


def plan(buckets: list[Bucket], spec: dict[str, Any], budget: float | None = None) -> dict[str, Any]:
    """Shares, target tokens, epochs and the tokenize weights for a total budget (default: all tokens,
    one pass). Warnings for buckets past max_epochs (default 4 when not given) and for a budget that
    the caps leave unmet."""
    buckets = [b for b in buckets if b.tokens >= 0]
    available = sum(b.tokens for b in buckets)
    budget = float(budget if budget else available)
    if not budget > 0:
        raise MixError("the token budget must be > 0")
    shares = compute_shares(buckets, spec, budget)
    if spec.get("method") == "unimax":  # unimax shares are relative to what it could allocate
        allocated = _unimax_allocated(buckets, budget, float(spec["max_epochs"]))
        shares = [s * allocated / budget for s in shares]
    cap = float(spec.get("max_epochs", 4.0))
    rows, warnings = [], []
    for b, s in zip(buckets, shares):
        target_tokens = s * budget
        epochs = target_tokens / b.tokens if b.tokens else 0.0
        rows.append({"lang": b.lang, "source": b.source, "domain": b.domain, "available_tokens": b.tokens,
                     "share": round(s, 6), "target_tokens": int(round(target_tokens)), "epochs": round(epochs, 6)})
        if epochs > cap * (1 + 1e-9):
            warnings.append(f"{b.name}: {epochs:.2f} epochs > max_epochs {cap:g} "
                            f"({b.tokens} tokens available, {target_tokens:.0f} wanted)")
    planned = sum(s for s in shares) * budget
    if planned < budget * (1 - 1e-6):
        warnings.append(f"the epoch caps allow only {planned:.0f} of the {budget:.0f} token budget")
    weights: dict[str, list[float]] = {}
    for b, s in zip(buckets, shares):
        acc = weights.setdefault(b.mix_key, [0.0, 0.0])
        acc[0] += s * budget
        acc[1] += b.tokens
    mix = {k: round(t / n, 6) if n else 0.0 for k, (t, n) in sorted(weights.items())}
    return {"method": dict(spec), "budget_tokens": int(round(budget)), "available_tokens": available,
            "planned_tokens": int(round(planned)), "mix": mix, "buckets": rows, "warnings": warnings}


def _unimax_allocated(buckets: list[Bucket], budget: float, max_epochs: float) -> float:
    per_lang: dict[str, int] = {}
    for b in buckets:
        per_lang[b.lang] = per_lang.get(b.lang, 0) + b.tokens
    return min(budget, max_epochs * sum(per_lang.values()))


# --- files ----------------------------------------------------------------------------------------

def load_counts(path: str | Path) -> list[Bucket]:
    """A counts file (JSON or YAML), either
       {"<lang>/<source>": tokens} or {"<lang>/<source>": {"<domain>": tokens}}, optionally under `counts:`,
    or a list of {lang, source, domain, tokens} records (under `counts:` or top level)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise MixError(f"{path}: cannot read the counts file ({err.strerror})") from None
    raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if isinstance(raw, dict) and "counts" in raw:
        raw = raw["counts"]
    buckets: list[Bucket] = []
    if isinstance(raw, list):
        for n, rec in enumerate(raw):
            if not isinstance(rec, dict) or not {"lang", "source", "tokens"} <= set(rec):
                raise MixError(f"{path}: record {n} needs lang, source and tokens, got {rec!r}")
            buckets.append(Bucket(str(rec["lang"]), str(rec["source"]), rec.get("domain"), int(rec["tokens"])))
    elif isinstance(raw, dict):
        for key, value in raw.items():
            lang, sep, source = str(key).partition("/")
            if not sep or not lang or not source:
                raise MixError(f"{path}: key '{key}' must be '<lang>/<source>'")
            if isinstance(value, dict):
                buckets += [Bucket(lang, source, str(d), int(t)) for d, t in value.items()]
            else:
                buckets.append(Bucket(lang, source, None, int(value)))
    else:
        raise MixError(f"{path}: expected a mapping or a list of records")
    for b in buckets:
        if b.tokens < 0:
            raise MixError(f"{path}: {b.name} has negative tokens {b.tokens}")
    return sorted(buckets, key=lambda b: (b.lang, b.source, b.domain or ""))


def load_spec(path: str | Path) -> dict[str, Any]:
    """A mix spec YAML: {method, temperature, max_epochs, groups, min_lang_share, redistribute, budget_tokens}."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise MixError(f"{path}: a mix spec is a mapping (method: ..., ...)")
    known = {"method", "temperature", "max_epochs", "groups", "min_lang_share", "redistribute", "budget_tokens"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise MixError(f"{path}: unknown keys {unknown}; known: {sorted(known)}")
    return raw


def dump_mix(result: dict[str, Any], header: str = "") -> str:
    """The mix file: `mix:` (tokenize weights = effective epochs) first, then the plan for the record."""
    lines = [f"# {line}" for line in header.splitlines()] + [
        "# mix: tokenize weights per '<lang>/<source>' = effective epochs (target / available tokens);",
        "# use as tokenize.mix_file. The other keys record how they were derived."]
    body = {"mix": result["mix"], "method": result["method"], "budget_tokens": result["budget_tokens"],
            "available_tokens": result["available_tokens"], "planned_tokens": result["planned_tokens"],
            "buckets": result["buckets"], "warnings": result["warnings"]}
    return "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'bucket':<32} {'available':>12} {'share':>8} {'target':>12} {'epochs':>7}"]
    for r in result["buckets"]:
        name = f"{r['lang']}/{r['source']}" + (f"#{r['domain']}" if r["domain"] else "")
        lines.append(f"{name:<32} {r['available_tokens']:>12} {r['share']:>8.4f} {r['target_tokens']:>12} "
                     f"{r['epochs']:>7.3f}")
    lines.append(f"budget {result['budget_tokens']} tokens, planned {result['planned_tokens']}, "
                 f"available {result['available_tokens']}")
    lines += [f"warning: {w}" for w in result["warnings"]]
    return "\n".join(lines)
