import pytest

from pipeline.extract.urls import normalize_url, registered_domain


@pytest.mark.parametrize("url, expected", [
    ("HTTP://Example.COM/a", "http://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("http://example.com", "http://example.com/"),
    ("http://example.com/a/./b/../c", "http://example.com/a/c"),
    ("http://example.com/page#section-2", "http://example.com/page"),
    ("http://example.com/p?utm_source=tw&id=7&fbclid=abc", "http://example.com/p?id=7"),
    ("http://example.com/%7Euser/", "http://example.com/~user/"),
    ("http://example.com/a b", "http://example.com/a%20b"),
    ("http://bücher.example/", "http://xn--bcher-kva.example/"),
    ("http://example.com./x", "http://example.com/x"),
    ("http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080/"),
    ("ftp://example.com/file", None),
    ("mailto:someone@example.com", None),
    ("not a url", None),
    ("", None),
    (None, None),
])
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected


@pytest.mark.parametrize("url, expected", [
    ("http://news.bbc.co.uk/story", "bbc.co.uk"),
    ("https://www.example.com/", "example.com"),
    ("https://a.b.c.example.com.au/", "example.com.au"),
    ("http://192.0.2.7/x", "192.0.2.7"),
    ("http://localhost/", "localhost"),
    (None, None),
])
def test_registered_domain(url, expected):
    assert registered_domain(url) == expected
