"""pii_v1: exact redactions, false-positive guards, Luhn, scores and options."""
from __future__ import annotations

import pytest

from filters.base import Batch, FilterConfigError, ThresholdTable
from filters.pii import PiiRedactor, is_card_number, luhn_valid


def redacted(text: str, options=None) -> str:
    texts, _ = PiiRedactor(options).apply(Batch([text], ["en"]))
    return texts[0]


@pytest.mark.parametrize("text, expected", [
    # emails
    ("Contact jane.doe@example.com today.", "Contact <EMAIL> today."),
    ("Write to a.b-c+tag@mail.example.co.uk.", "Write to <EMAIL>."),
    ("<a href='mailto:x_y@Example.ORG'>", "<a href='mailto:<EMAIL>'>"),
    ("Retina icon@2x.png stays.", "Retina icon@2x.png stays."),
    ("user@localhost is not an address", "user@localhost is not an address"),
    # IPv4
    ("Server 93.184.216.34 responded.", "Server <IP_ADDRESS> responded."),
    ("IP:203.0.114.7, then 81.2.69.160", "IP:<IP_ADDRESS>, then <IP_ADDRESS>"),
    ("The host ip is 5.6.7.8 today", "The host ip is <IP_ADDRESS> today"),
    ("Router at 192.168.1.1 and 10.0.0.1 stay.", "Router at 192.168.1.1 and 10.0.0.1 stay."),
    ("Loopback 127.0.0.1, docs 198.51.100.7", "Loopback 127.0.0.1, docs 198.51.100.7"),
    ("Use DNS 8.8.8.8 for lookups.", "Use DNS 8.8.8.8 for lookups."),
    ("Upgrade to version 10.2.3.4 now.", "Upgrade to version 10.2.3.4 now."),
    ("Build v 93.184.216.34 shipped", "Build v 93.184.216.34 shipped"),
    ("Released 2.4.1.0 yesterday.", "Released 2.4.1.0 yesterday."),
    ("Octets 256.1.1.1 and 1.2.3.4.5 are not addresses",
     "Octets 256.1.1.1 and 1.2.3.4.5 are not addresses"),
    # IPv6
    ("Ping 2a00:1450:4001:82b::200e now", "Ping <IP_ADDRESS> now"),
    ("Full 2a00:1450:4001:082b:0000:0000:0000:200e.", "Full <IP_ADDRESS>."),
    ("Upper 2A00:1450:4001:82B::200E", "Upper <IP_ADDRESS>"),
    ("URL http://[2606:4700:4700::1111]:443/", "URL http://[<IP_ADDRESS>]:443/"),
    ("Mapped ::ffff:93.184.216.34 too", "Mapped <IP_ADDRESS> too"),
    ("Mapped resolver ::ffff:8.8.8.8 kept", "Mapped resolver ::ffff:8.8.8.8 kept"),
    ("Local ::1, fe80::1%eth0, 2001:db8::1, fd00::5",
     "Local ::1, fe80::1%eth0, 2001:db8::1, fd00::5"),
    ("Slices x[1::2] and times 12:30:45", "Slices x[1::2] and times 12:30:45"),
    ("MAC 00:1a:2b:3c:4d:5e and C++ std::vector", "MAC 00:1a:2b:3c:4d:5e and C++ std::vector"),
    # cards (Luhn-valid test numbers)
    ("Pay with 4111 1111 1111 1111 now", "Pay with <CARD_NUMBER> now"),
    ("Card: 4111-1111-1111-1111.", "Card: <CARD_NUMBER>."),
    ("Card 5555555555554444 ok", "Card <CARD_NUMBER> ok"),
    ("Amex 3782 822463 10005", "Amex <CARD_NUMBER>"),
    ("Bad checksum 4111 1111 1111 1112", "Bad checksum 4111 1111 1111 1112"),
    ("Epoch ms 1700000000000", "Epoch ms 1700000000000"),
    ("Mixed 4111 1111-1111 1111", "Mixed 4111 1111-1111 1111"),
    # phones
    ("Call +1 (555) 123-4567 now", "Call <PHONE> now"),
    ("UK +44 20 7946 0958.", "UK <PHONE>."),
    ("DE +49 (0)30 1234567", "DE <PHONE>"),
    ("FR +33 1 23 45 67 89", "FR <PHONE>"),
    ("JP +81 3-1234-5678", "JP <PHONE>"),
    ("Bare +4930123456", "Bare <PHONE>"),
    ("US (555) 123-4567, 555-123-4567, 555.123.4567", "US <PHONE>, <PHONE>, <PHONE>"),
    ("Toll free 1-800-555-1234", "Toll free <PHONE>"),
    ("Tel. 030 1234567 or (030) 12345678", "Tel. <PHONE> or <PHONE>"),
    ("London 020 7946 0958, Paris 06 12 34 56 78", "London <PHONE>, Paris <PHONE>"),
    ("Munich 089/1234567", "Munich <PHONE>"),
])
def test_redaction(text, expected):
    assert redacted(text) == expected


@pytest.mark.parametrize("text", [
    "Dates 2023-01-15, 15.01.2023, 01/15/2023 and 2023/01/15.",
    "Meeting on 01.02.2023 12:30 in room 4.",
    "From 1999 to 2005, or 1999-2005, or 1999 - 2005.",
    "Prices $1,234.56, € 1.234.567, 1 234 567 EUR, 12,99 € and $555-123-4567.",
    "Versions 1.2.3, 10.0.19041.1 and 2.7.18-1.",
    "ISBN 0-306-40615-2 and 978-0-306-40615-7.",
    "At 12:30:45 the score was 3 - 2 with 0.5 1234 points.",
    "Population 8 000 000 000 and zip 75008 Paris.",
    "Invoice 2023-000123-45 and order 0 123.",
    "Only 123 456 7890123 digits",
])
def test_phone_negatives(text):
    assert redacted(text) == text


@pytest.mark.parametrize("digits, valid", [
    ("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True),
    ("6011111111111117", True), ("5555555555554444", True), ("79927398713", True), ("79927398710", False),
])
def test_luhn(digits, valid):
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize("candidate, expected", [
    ("4111 1111 1111 1111", True), ("4111-1111-1111-1111", True), ("4111111111111111", True),
    ("1111 1111 1111 1117", False),        # valid Luhn, no card-network prefix
    ("41 11 11 11 11 11 11 11", False),    # groups too short: not how cards are written
    ("4111 1111-1111 1111", False),         # mixed separators
    ("4222222222222", True),                # 13-digit Visa
    ("411111111111", False),                # 12 digits
])
def test_is_card_number(candidate, expected):
    assert is_card_number(candidate) is expected


def test_scores_per_type_total_and_density():
    texts = ["a@b.com 93.184.216.34",                          # 21 characters
             "x " * 50,
             "",
             "4111 1111 1111 1111 +44 20 7946 0958 c@d.org"]
    out, scores = PiiRedactor().apply(Batch(texts, ["en"] * 4))
    assert out == ["<EMAIL> <IP_ADDRESS>", "x " * 50, "", "<CARD_NUMBER> <PHONE> <EMAIL>"]
    assert scores["emails"].tolist() == [1, 0, 0, 1]
    assert scores["ips"].tolist() == [1, 0, 0, 0]
    assert scores["cards"].tolist() == [0, 0, 0, 1]
    assert scores["phones"].tolist() == [0, 0, 0, 1]
    assert scores["total"].tolist() == [2, 0, 0, 3]
    assert scores["density"].tolist() == pytest.approx([2000 / 21, 0.0, 0.0, 3000 / len(texts[3])])


@pytest.mark.parametrize("text, max_density, expected", [
    ("Reach me at a@b.com or c@d.org", 50, "pii_max_density"),
    ("Reach me at a@b.com. " + "Plain words follow here. " * 10, 50, None),
    ("Reach me at a@b.com or c@d.org", None, None),           # default: redact, never drop
])
def test_max_density(text, max_density, expected):
    flt = PiiRedactor()
    _, scores = flt.apply(Batch([text], ["en"]))
    table = ThresholdTable(flt.Thresholds, {"default": {"max_density": max_density}})
    assert flt.keep(scores, ["en"], table)[1][0] == expected


@pytest.mark.parametrize("options, text, expected", [
    ({"placeholders": {"email": "[email]"}}, "a@b.com 555-123-4567", "[email] <PHONE>"),
    ({"types": ["email"]}, "a@b.com 555-123-4567", "<EMAIL> 555-123-4567"),
    ({"redact_non_global_ips": True}, "gw 192.168.1.1 and ::1", "gw <IP_ADDRESS> and <IP_ADDRESS>"),
    ({"keep_ips": []}, "dns 8.8.8.8", "dns <IP_ADDRESS>"),
    ({"keep_ips": ["93.184.216.34"]}, "at 93.184.216.34", "at 93.184.216.34"),
])
def test_options(options, text, expected):
    assert redacted(text, options) == expected


@pytest.mark.parametrize("options, message", [
    ({"placeholder": {}}, "unknown option 'pii_v1.placeholder'"),
    ({"placeholders": {"ssn": "<SSN>"}}, "pii_v1.placeholders.ssn"),
    ({"types": ["email", "iban"]}, "pii_v1.types.iban"),
    ({"keep_ips": "8.8.8.8"}, "wrong type"),
])
def test_option_errors(options, message):
    with pytest.raises(FilterConfigError, match=message):
        PiiRedactor(options)


def test_score_columns_do_not_depend_on_content():
    _, empty = PiiRedactor().apply(Batch([""], ["en"]))
    _, full = PiiRedactor().apply(Batch(["a@b.com"], ["en"]))
    assert list(empty) == list(full) == ["emails", "ips", "phones", "cards", "total", "density"]


@pytest.mark.parametrize("pattern, hint", [
    ("IPV6", "_IPV6_HINT"), ("IPV4", "_IPV4_HINT"), ("CARD", "_CARD_HINT"),
    ("PHONE_NANP", "_NANP_HINT"), ("PHONE_NATIONAL", "_NATIONAL_HINT")])
def test_a_pass_is_skipped_only_where_its_pattern_cannot_match(pattern, hint):
    """Each pass's hint is in every text its pattern matches: on 30,000 generated strings of digits,
    hex letters, separators and brackets (where the patterns match often), and on this file's examples."""
    import random

    from filters import pii

    pattern, hint = getattr(pii, pattern), getattr(pii, hint)
    rng = random.Random(11)

    def number() -> str:    # digit groups between separators: the stuff of addresses, cards and phones
        if rng.random() < 0.1:
            return ".".join(str(rng.randrange(300)) for _ in range(rng.randrange(3, 6))) + rng.choice(["", ".", ":", " x"])
        parts = []
        for _ in range(rng.randrange(2, 7)):
            group = "".join(rng.choice("0123456789") for _ in range(rng.choice([1, 2, 3, 3, 4, 4, 5])))
            if rng.random() < 0.15:
                group = rng.choice(["(", "(0"]) + group + ")"
            elif rng.random() < 0.15:
                group = rng.choice(["abc", "fe", "x", "0"]) + group
            parts.append(group)
        if rng.random() < 0.5:  # one separator throughout: 192.168.0.1, 555-867-5309, 4111 1111 ...
            seps = [rng.choice(" .-:")] * (len(parts) - 1) + [rng.choice(["", " ", ":", "."])]
        else:
            seps = [rng.choice(" .-/:") if rng.random() < 0.9 else rng.choice(["", "::", "+", "%"]) for _ in parts]
        return rng.choice(["", " ", "+", "a", "."]) + "".join(p + s for p, s in zip(parts, seps))

    texts = [number() for _ in range(30_000)]
    texts += ["Call 555-867-5309 or (0)20 7946 0958", "4111 1111 1111 1111", "fe80::1%eth0 and 192.168.0.1",
              "2001:db8::ff00:42:8329", "+44 20 7946 0958", "030 1234567", "(030) 12 34 56 78", "::ffff:8.8.8.8"]
    matched = [text for text in texts if pattern.search(text)]
    assert len(matched) > 50                      # the generator does reach the patterns
    assert [text for text in matched if not hint.search(text)] == []
