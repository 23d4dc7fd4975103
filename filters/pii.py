"""PII redaction: emails, IP addresses, phone numbers and payment card numbers become typed
placeholders (`<EMAIL>`, `<IP_ADDRESS>`, `<PHONE>`, `<CARD_NUMBER>`).

Regexes find candidates; small checks accept them. Passes run in a fixed order (emails, IPv6,
IPv4, cards, phones) on the progressively redacted text, so a card number is never also counted
as a phone number. Choices, following the BigScience/BigCode PII pipelines (StarCoder, Li et al.
2023) where they made one:
- IPs: only globally routable addresses are redacted (private, loopback, link-local, reserved,
  documentation ranges such as 192.168.1.1 or 2001:db8::1 describe no one and fill networking
  manuals), nor well-known public DNS resolvers (8.8.8.8: BigCode's list). IPv6 counts as global
  only inside 2000::/3, the global unicast space, so `x[1::2]` slices stay. Dotted quads after a
  version word ("version 1.2.3.4", "v10.0.0.1") and single-digit quads ("1.2.3.4") without IP
  words nearby are taken for versions (BigCode's filter_versions). `redact_non_global_ips: true`
  redacts every valid address instead.
- Phones: international (+country code, 8-15 digits: E.164), North American (NXX-NXX-XXXX
  shapes, separators required) and national trunk-0 formats (0xx xxxxxxx, 9-13 digits, at least
  one separator). Bare digit runs without `+`, dates (dd.mm.yyyy, yyyy-mm-dd), years, prices (a
  currency sign or code next to it), version numbers and the tail of a longer number are left
  alone. Trunk prefixes other than 0 (Russia's 8) are not recognised.
- Cards: 13-19 digits, optional single spaces or dashes between groups of at least 3 digits,
  a major-network prefix (2221-2720, 3, 4, 5, 6) and a valid Luhn checksum.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from filters.base import Batch, FilterConfigError, TextModifier
from filters.registry import register

PLACEHOLDERS = {"email": "<EMAIL>", "ip": "<IP_ADDRESS>", "phone": "<PHONE>", "card": "<CARD_NUMBER>"}
PII_TYPES = ("email", "ip", "phone", "card")
SCORE_NAMES = {"email": "emails", "ip": "ips", "phone": "phones", "card": "cards"}
# BigCode pii/pii_redaction.py POPULAR_DNS_SERVERS: public resolvers, not personal data.
POPULAR_DNS_SERVERS = ("8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "76.76.19.19", "76.223.122.150",
                       "9.9.9.9", "149.112.112.112", "208.67.222.222", "208.67.220.220",
                       "8.26.56.26", "8.20.247.20", "94.140.14.14", "94.140.15.15")

EMAIL = re.compile(
    r"(?<![\w.%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24}))(?![\w\-@])")
_FILE_TLDS = {"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "css", "js", "pdf"}
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w:]|\.\d)")
IPV6 = re.compile(r"(?<![\w:.%])(?:[0-9A-Fa-f]{0,4}:){2,7}"
                  r"(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%[0-9A-Za-z_.\-]+)?(?![\w:]|\.\d)")
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
_VERSION_BEFORE = re.compile(r"(?:\b(?:version|ver|release|rel|build|firmware|fw|rev|revision|"
                             r"v)\.?\s*[:#]?\s*|\bv)$", re.IGNORECASE)
_IP_CONTEXT = re.compile(r"\b(?:ip|ipv4|dns|server|host|address|ping|gateway|subnet)\b", re.IGNORECASE)
CARD = re.compile(r"(?<![\w+\-.,])\d(?:[ \-]?\d){12,18}(?![\w]|[.,\-]\d)")
_PHONE_END = r"(?![\w]|[.\-/]\d)"
# The international phone pattern. As a `re` pattern it backtracks through every way of cutting
# the digits into groups before failing ('+' then 33 digits then a letter: 4 ms per '+', minutes
# for a page of them), so PHONE_INTL finds the same matches by the same search, memoised.
PHONE_INTL_PATTERN = r"(?<![\w+])\+\d{1,3}(?:[ .\-]?\(\d{1,4}\)|[ .\-]?\d{1,5}){1,6}" + _PHONE_END
PHONE_NANP = re.compile(r"(?<![\w+.\-/])(?:1[ .\-])?(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}"
                        + _PHONE_END)
PHONE_NATIONAL = re.compile(r"(?<![\w+.\-/])(?:\(0\d{1,4}\)|0\d{1,4})(?:[ .\-/]\d{2,8}){1,4}"
                            + _PHONE_END)


class _IntlPhonePattern:
    """PHONE_INTL_PATTERN's matches, found in time linear in the text: the search `re` makes (the
    same order of choices, so the same first match at each '+'), with each (position, groups so
    far) state tried once. Only the part of re.Pattern that `redact` uses: sub, finditer, findall."""

    pattern = PHONE_INTL_PATTERN
    # A '+' where a match can start and end: the lookbehind, a digit, then, within the 44
    # characters a match can span after it, an end after a digit or ')' that the end check passes
    # (in C: a '+' before 40 digits and a letter costs nothing). The '+' comes first and the
    # lookbehind after it, so that `re` scans for the literal '+' instead of trying the
    # lookbehind at every character (90x faster on text without a '+', the same matches).
    _START = re.compile(r"\+(?<![\w+]\+)\d(?=[\d .\-()]{0,44}(?<=[\d)])(?![\w]|[.\-/]\d))")
    _SPAN = re.compile(r".+", re.DOTALL)   # turns a found (start, end) into a real re.Match

    def finditer(self, text: str):
        resume = 0
        for start in self._START.finditer(text):
            if start.start() < resume:
                continue
            end = _intl_phone_end(text, start.start())
            if end >= 0:
                resume = end
                yield self._SPAN.match(text, start.start(), end)

    def findall(self, text: str) -> list[str]:
        return [m.group(0) for m in self.finditer(text)]

    def sub(self, repl: Callable[[re.Match], str], text: str) -> str:
        parts, last = [], 0
        for m in self.finditer(text):
            parts += [text[last:m.start()], repl(m)]
            last = m.end()
        return "".join(parts) + text[last:] if parts else text


def _intl_phone_end(text: str, plus: int) -> int:
    """End of PHONE_INTL_PATTERN's match at `plus` (a '+' its lookbehind allows), -1 if none.
    Depth-first in `re`'s order: the country code longest first; then another group before
    stopping (greedy {1,6}); a group: '(ddd)' before digits, a separator before none, more digits
    before fewer; stopping where the end check passes. A state's outcome does not depend on the
    path to it, so each is computed once."""
    size = len(text)
    memo: dict[tuple[int, int], int] = {}

    def digits(at: int, most: int) -> int:
        count = 0
        while count < most and at + count < size and text[at + count].isdecimal():
            count += 1
        return count

    def group_ends(at: int):
        starts = (at + 1, at) if at < size and text[at] in " .-" else (at,)
        for begin in starts:          # '(' \d{1,4} ')': only all the digits can meet the ')'
            if begin < size and text[begin] == "(":
                count = digits(begin + 1, 4)
                if count and begin + 1 + count < size and text[begin + 1 + count] == ")":
                    yield begin + count + 2
        for begin in starts:          # \d{1,5}, longest first
            for count in range(digits(begin, 5), 0, -1):
                yield begin + count

    def end_ok(at: int) -> bool:      # (?![\w]|[.\-/]\d)
        if at >= size:
            return True
        char = text[at]
        if char.isalnum() or char == "_":
            return False
        return not (char in ".-/" and at + 1 < size and text[at + 1].isdecimal())

    def search(at: int, groups: int) -> int:
        key = (at, groups)
        if key not in memo:
            found = -1
            if groups < 6:
                for nxt in group_ends(at):
                    found = search(nxt, groups + 1)
                    if found >= 0:
                        break
            if found < 0 and groups >= 1 and end_ok(at):
                found = at
            memo[key] = found
        return memo[key]

    for count in range(digits(plus + 1, 3), 0, -1):
        found = search(plus + 1 + count, 0)
        if found >= 0:
            return found
    return -1


PHONE_INTL = _IntlPhonePattern()
# What every match of a pattern contains, found many times faster than the pattern (no lookbehind
# tried at every character): a pass whose hint is not in the text is skipped, with the same result.
# (tests/filters/test_pii.py checks each hint against its pattern on generated text.)
_IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")          # two of the (hex{0,4}:){2,7} groups
_IPV4_HINT = re.compile(r"\.\d{1,3}\.\d")               # '.b.c' of a.b.c.d
_CARD_HINT = re.compile(r"\d(?:[ \-]?\d){12}")           # the first 13 digits
_NANP_HINT = re.compile(r"\d{3}[ .\-]\d{4}")             # the last 7 digits
_NATIONAL_HINT = re.compile(r"0\d{1,4}\)?[ .\-/]\d\d")    # the trunk prefix and the next group's start
_DATE = re.compile(r"\d{1,2}([./\-])\d{1,2}\1(?:19|20)\d\d(?!\d)|(?:19|20)\d\d([./\-])\d{1,2}\2\d{1,2}")
_NUMBER_BEFORE = re.compile(r"\d[ .,]$")
_CURRENCY = "$€£¥₹₽₩"
_HINT = re.compile(r"[\d@]")


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) checksum, as every payment card number carries."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card_number(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 13 <= len(digits) <= 19 or not _card_prefix(digits):
        return False
    separators = set(re.findall(r"\D", candidate))
    if separators and (len(separators) > 1 or min(map(len, re.split(r"\D", candidate))) < 3):
        return False
    return luhn_valid(digits)


def _card_prefix(digits: str) -> bool:
    return digits[0] in "3456" or 2221 <= int(digits[:4]) <= 2720


class _Rules:
    """Acceptance checks with the filter's options bound."""

    def __init__(self, keep_ips: set[str], all_ips: bool):
        self.keep_ips = keep_ips
        self.all_ips = all_ips

    def email(self, m: re.Match) -> bool:
        return m.group(2).lower() not in _FILE_TLDS and not re.match(r"\d+x\.", m.group(1))

    def ipv4(self, m: re.Match) -> bool:
        value = m.group(0)
        if value in self.keep_ips or _VERSION_BEFORE.search(m.string, max(0, m.start() - 24), m.start()):
            return False
        if len(value) == 7 and not _IP_CONTEXT.search(m.string[max(0, m.start() - 60):m.end() + 60]):
            return False   # d.d.d.d: a version unless IP words are near
        return self.all_ips or ipaddress.IPv4Address(value).is_global

    def ipv6(self, m: re.Match) -> bool:
        value = m.group(0)
        try:
            address = ipaddress.IPv6Address(value.split("%", 1)[0])
        except ValueError:
            return False
        if value in self.keep_ips or not any(c.isdigit() for c in value):
            return False
        if address.ipv4_mapped is not None:   # ::ffff:a.b.c.d is the IPv4 address
            mapped = address.ipv4_mapped
            return str(mapped) not in self.keep_ips and (self.all_ips or mapped.is_global)
        return self.all_ips or (address.is_global and address in _GLOBAL_UNICAST_V6)

    @staticmethod
    def card(m: re.Match) -> bool:
        return is_card_number(m.group(0))

    @staticmethod
    def phone(m: re.Match) -> bool:
        value = m.group(0)
        digits = sum(c.isdigit() for c in value)
        low, high = _phone_digit_limits(value)
        if not low <= digits <= high or _DATE.search(value) or value.startswith("000"):
            return False
        if _NUMBER_BEFORE.search(m.string, max(0, m.start() - 2), m.start()):
            return False   # the tail of a longer number: 8 000 000 000
        return not _next_to_currency(m.string, m.start(), m.end())


def _phone_digit_limits(value: str) -> tuple[int, int]:
    if value.startswith("+"):
        return 8, 15    # E.164: country code + subscriber number, at most 15 digits
    if value.lstrip("(").startswith("0"):
        return 9, 13    # national trunk-0 formats (UK 11, FR 10, DE 9-13)
    return 10, 11       # North American: 10 digits, 11 with the leading 1


def _next_to_currency(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 2):start].strip()
    after = text[end:end + 4].strip()
    return bool(before and before[-1] in _CURRENCY) or bool(after and (after[0] in _CURRENCY or
                                                                    after[:3] in ("EUR", "USD", "GBP")))


def redact(pattern: re.Pattern, text: str, accept: Callable[[re.Match], bool],
           placeholder: str) -> tuple[str, int]:
    """`text` with accepted matches replaced, and how many were."""
    count = 0

    def replace(m: re.Match) -> str:
        nonlocal count
        if not accept(m):
            return m.group(0)
        count += 1
        return placeholder

    return pattern.sub(replace, text), count


@register
class PiiRedactor(TextModifier):
    """Redacts PII with typed placeholders; scores per-type counts, `total` and `density` (matches
    per 1,000 characters of the original text). `max_density` (off by default) drops documents
    dense in PII: contact lists, leaked dumps.

    Options: `placeholders` ({email, ip, phone, card: string}), `types` (which to redact, default
    all), `redact_non_global_ips` (default false), `keep_ips` (never redacted; default BigCode's
    public DNS resolvers), `segmentation` (ignored).
    """
    name = "pii_v1"
    prefix = "pii"
    OPTIONS = {"placeholders": dict, "types": list, "redact_non_global_ips": bool, "keep_ips": list}

    @dataclass(frozen=True)
    class Thresholds:
        max_density: float | None = None

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        self.placeholders = {**PLACEHOLDERS, **_known(self.name, "placeholders",
                                                       self.options.get("placeholders") or {})}
        self.types = set(_known(self.name, "types", dict.fromkeys(self.options.get("types") or PII_TYPES)))
        keep = self.options.get("keep_ips")
        rules = _Rules(set(POPULAR_DNS_SERVERS if keep is None else keep),
                       bool(self.options.get("redact_non_global_ips", False)))
        passes = [("email", EMAIL, rules.email, "@"), ("ip", IPV6, rules.ipv6, _IPV6_HINT),
                  ("ip", IPV4, rules.ipv4, _IPV4_HINT), ("card", CARD, rules.card, _CARD_HINT),
                  ("phone", PHONE_INTL, rules.phone, "+"), ("phone", PHONE_NANP, rules.phone, _NANP_HINT),
                  ("phone", PHONE_NATIONAL, rules.phone, _NATIONAL_HINT)]
        self.passes = [p for p in passes if p[0] in self.types]

    def redact_text(self, text: str) -> tuple[str, dict[str, int]]:
        counts = dict.fromkeys(PII_TYPES, 0)
        if not text or not _HINT.search(text):
            return text, counts
        for kind, pattern, accept, hint in self.passes:
            if hint in text if isinstance(hint, str) else hint.search(text):
                text, found = redact(pattern, text, accept, self.placeholders[kind])
                counts[kind] += found
        return text, counts

    def apply(self, batch: Batch) -> tuple[list[str], dict[str, np.ndarray]]:
        size = len(batch)
        out: list[str] = []
        columns = {kind: np.zeros(size, dtype=np.int64) for kind in PII_TYPES}
        lengths = np.zeros(size, dtype=np.float64)
        for i, text in enumerate(batch.texts):
            redacted, counts = self.redact_text(text or "")
            out.append(redacted)
            lengths[i] = len(text or "")
            for kind, found in counts.items():
                columns[kind][i] = found
        total = sum(columns.values())
        density = np.divide(total * 1000.0, lengths, out=np.zeros(size), where=lengths > 0)
        scores = {SCORE_NAMES[kind]: values for kind, values in columns.items()}
        return out, {**scores, "total": total, "density": density}


def _known(name: str, option: str, values: Mapping[str, Any]) -> dict[str, Any]:
    for key in values:
        if key not in PII_TYPES:
            raise FilterConfigError(f"unknown key '{name}.{option}.{key}' (known: {', '.join(PII_TYPES)})")
    return dict(values)
