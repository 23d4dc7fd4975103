"""URL normalisation and registered-domain extraction (offline Public Suffix List snapshot)."""
from __future__ import annotations

import functools
import posixpath
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import tldextract

_DEFAULT_PORTS = {"http": "80", "https": "443"}
# Query keys that identify a click, not a page: dropping them merges copies of one page.
_TRACKING_KEYS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|yclid)$", re.I)
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"


def normalize_url(url: str | None) -> str | None:
    """Canonical form of an http(s) URL: lowercase scheme and host, IDNA host, no default port,
    no fragment, no tracking parameters, resolved dot segments, consistent percent-encoding.
    Returns None for anything that is not an absolute http(s) URL."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            return None
        host = _normalize_host(parts.hostname)
        port = parts.port
    except ValueError:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or str(port) == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _normalize_path(parts.path)
    query = _normalize_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def registered_domain(url: str | None) -> str | None:
    """The domain under its public suffix (news.bbc.co.uk -> bbc.co.uk); the host for IPs."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return _registered_domain_of_host(host)


@functools.lru_cache(maxsize=65536)
def _registered_domain_of_host(host: str) -> str:
    parts = _extractor()(host)
    domain = getattr(parts, "top_domain_under_public_suffix", None) or parts.registered_domain
    return domain or host


@functools.lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # suffix_list_urls=() keeps it offline: it uses the snapshot bundled in the package.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


def _normalize_host(host: str) -> str:
    host = host.rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _normalize_path(path: str) -> str:
    if not path:
        return "/"
    resolved = posixpath.normpath(path)
    if resolved.startswith("//"):
        resolved = "/" + resolved.lstrip("/")
    if path.endswith("/") and not resolved.endswith("/"):
        resolved += "/"
    return quote(unquote(resolved), safe=_SAFE_PATH)


def _normalize_query(query: str) -> str:
    if not query:
        return ""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _TRACKING_KEYS.match(k)]
    return urlencode(pairs, doseq=True)
