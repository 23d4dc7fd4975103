import pytest

from pipeline.extract.charset import charset_from_content_type, decode_html, looks_binary

TEXTS = {
    "fr": "Le cœur déçu mais l'âme plutôt naïve, Louÿs rêva de crapaüter en canoë.",
    "ru": "Съешь же ещё этих мягких французских булок да выпей чаю.",
    "ja": "いろはにほへと ちりぬるを わかよたれそ つねならむ",
    "zh": "我能吞下玻璃而不伤身体。这是一段中文文本。",
}


@pytest.mark.parametrize("lang, encoding, header, meta", [
    ("fr", "utf-8", None, None),                 # no declaration at all
    ("fr", "utf-8", "iso-8859-1", None),         # header lies: bytes are UTF-8
    ("fr", "cp1252", "utf-8", None),             # says UTF-8, is windows-1252
    ("fr", "cp1252", None, "windows-1252"),
    ("ru", "koi8-r", None, "koi8-r"),
    ("ru", "cp1251", "windows-1251", None),
    ("ja", "shift_jis", None, "shift_jis"),
    ("ja", "euc-jp", None, "euc-jp"),
    ("zh", "gbk", "gb2312", None),
])
def test_decode_recovers_text(lang, encoding, header, meta):
    head = f'<meta charset="{meta}">' if meta else ""
    payload = f"<html><head>{head}</head><body><p>{TEXTS[lang]}</p></body></html>".encode(encoding)
    text, _ = decode_html(payload, header)
    assert TEXTS[lang] in text


def test_undecodable_bytes_do_not_raise():
    text, charset = decode_html(bytes(range(128, 256)) * 4)
    assert isinstance(text, str) and charset


@pytest.mark.parametrize("content_type, expected", [
    ("text/html; charset=ISO-8859-1", "ISO-8859-1"),
    ('text/html; charset="utf-8"', "utf-8"),
    ("text/html", None),
    (None, None),
])
def test_charset_from_content_type(content_type, expected):
    assert charset_from_content_type(content_type) == expected


@pytest.mark.parametrize("payload, expected", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", True),
    (bytes(range(0, 32)) * 10, True),
    ("<html><body>héllo</body></html>".encode(), False),
    (b"", False),
])
def test_looks_binary(payload, expected):
    assert looks_binary(payload) is expected
