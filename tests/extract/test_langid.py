import numpy as np
import pytest

from pipeline.config import ConfigError, LangIdConfig, load_config
from pipeline.extract.langid import LangIdModelMissing, LanguageIdentifier, resolve_model_path
from pipeline.extract.scripts import LABEL_SCRIPTS, languages_of, profile, writing_system, writing_systems
from pipeline.text import letter_count, non_space_count


@pytest.fixture(scope="module")
def langid():
    return LanguageIdentifier(LangIdConfig())


@pytest.mark.parametrize("text, lang", [
    ("The committee published its annual report on water quality in the northern rivers.", "en"),
    ("Le comité a publié son rapport annuel sur la qualité de l'eau des rivières du nord.", "fr"),
    ("Der Ausschuss hat seinen Jahresbericht über die Wasserqualität der Flüsse veröffentlicht.", "de"),
    ("El comité publicó su informe anual sobre la calidad del agua en los ríos del norte.", "es"),
    ("Комитет опубликовал ежегодный доклад о качестве воды в северных реках.", "ru"),
    ("委员会发布了关于北方河流水质的年度报告，报告指出污染有所下降。", "zh"),
    ("委員会は北部の河川の水質に関する年次報告書を公表しました。", "ja"),
    ("نشرت اللجنة تقريرها السنوي حول جودة المياه في الأنهار الشمالية.", "ar"),
    ("Komitet opublikował roczny raport o jakości wody w rzekach północnych.", "pl"),
    ("Hi", "und"),
    ("", "und"),
    ("   \n\t ", "und"),
    ("1234 5678 9012 3456 7890 #### **** ---- 1234 5678 9012 3456 7890 //// 0000", "zxx"),
])
def test_identify(langid, text, lang):
    labels, scores = langid.identify([text])
    assert labels == [lang]
    if lang in ("und", "zxx"):
        assert scores[0] == 0.0
    else:
        assert 0.5 < scores[0] <= 1.0


# Short texts in 27 scripts, all under min_chars (20) letters: each was `und` before the script rule.
SHORT = [
    ("안녕하세요", "ko", "Kore"), ("감사합니다", "ko", "Kore"),
    ("今日は雨です。", "ja", "Jpan"), ("ありがとう", "ja", "Jpan"),
    ("我们明天见。", "zh", "Hani"), ("谢谢你的帮助", "zh", "Hani"),
    ("สวัสดีครับ", "th", "Thai"),
    ("Καλημέρα σας", "el", "Grek"),
    ("Спасибо большое", "ru", "Cyrl"),
    ("मेरा नाम राम है", "hi", "Deva"),
    ("شكرا جزيلا", "ar", "Arab"),
    ("תודה רבה", "he", "Hebr"),
    ("გამარჯობა", "ka", "Geor"),
    ("Բարև ձեզ", "hy", "Armn"),
    ("እንኳን ደህና መጣህ", "am", "Ethi"),
    ("வணக்கம்", "ta", "Taml"),
    ("ధన్యవాదాలు", "te", "Telu"),
    ("ನಮಸ್ಕಾರ", "kn", "Knda"),
    ("നന്ദി", "ml", "Mlym"),
    ("આભાર", "gu", "Gujr"),
    ("ਧੰਨਵਾਦ", "pa", "Guru"),
    ("ආයුබෝවන්", "si", "Sinh"),
    ("អរគុណ", "km", "Khmr"),
    ("ສະບາຍດີ", "lo", "Laoo"),
    ("မင်္ဂလာပါ", "my", "Mymr"),
    ("བཀྲ་ཤིས་བདེ་ལེགས།", "bo", "Tibt"),
    ("ধন্যবাদ", "bn", "Beng"),
    ("ޝުކުރިއްޔާ", "dv", "Thaa"),
    ("Thank you very much", "en", "Latn"), ("Merci beaucoup", "fr", "Latn"), ("Vielen Dank", "de", "Latn"),
    ("Muchas gracias", "es", "Latn"), ("Dziękuję bardzo", "pl", "Latn"), ("Cảm ơn bạn", "vi", "Latn"),
    ("Teşekkür ederim", "tr", "Latn"), ("Obrigado pela ajuda", "pt", "Latn"),
]


@pytest.mark.parametrize("text, lang, script", SHORT)
def test_short_text_in_many_scripts(langid, text, lang, script):
    assert letter_count(text) < LangIdConfig().min_chars
    assert writing_system(profile([text]).script_units[0]) == script
    labels, scores = langid.identify([text])
    assert labels == [lang]
    assert 0.3 <= scores[0] <= 1.0


def test_the_short_table_covers_many_scripts():
    assert len({script for _, _, script in SHORT}) >= 12


def test_a_script_with_one_language_decides_short_text(langid):
    # Dhivehi: fastText's best guess for this word is Malayalam (0.17), Thaana is only Dhivehi's.
    labels, scores = langid.identify(["ޝުކުރިއްޔާ"])
    assert labels == ["dv"] and scores[0] == 1.0


def test_full_cjk_sentences_of_fifteen_characters_are_not_undetermined(langid):
    texts = ["我们明天早上八点在学校门口见面。", "내일 아침 여덟 시에 학교 앞에서 만나요.", "明日の朝八時に学校の前で会いましょう。"]
    assert [letter_count(t) for t in texts] == [15, 16, 18]       # the old rule: `und`, all three
    labels, scores = langid.identify(texts)
    assert labels == ["zh", "ko", "ja"]
    assert (scores > 0.5).all()


def test_fastText_label_outside_the_script_is_replaced():
    """Amharic written with the Ethiopic word separator: bare fastText says Russian."""
    text = ("የሰው፡ልጅ፡ሁሉ፡ሲወለድ፡ነጻና፡በክብርና፡በመብትም፡እኩልነት፡ያለው፡ነው።፡የተፈጥሮ፡ማስተዋልና፡ሕሊና፡ስላለው፡"
            "አንዱ፡ሌላውን፡በወንድማማችነት፡መንፈስ፡መመልከት፡ይገባዋል።")
    bare = LanguageIdentifier(LangIdConfig(script_rule=False))
    assert bare.identify([text])[0] != ["am"]
    labels, scores = LanguageIdentifier(LangIdConfig()).identify([text])
    assert labels == ["am"] and scores[0] == 1.0


def test_the_most_probable_language_of_the_script_replaces_an_impossible_one(langid):
    """Mongolian in Mongolian script: fastText's best label is Chinese; mn, bxr and xal are the
    languages of the script, and fastText gives mn the most of them."""
    text = ("ᠬᠦᠮᠦᠨ ᠪᠦᠷ ᠲᠥᠷᠥᠵᠦ ᠮᠡᠨᠳᠡᠯᠡᠬᠦ ᠡᠷᠬᠡ ᠴᠢᠯᠥᠭᠡ ᠲᠡᠢ᠂ ᠠᠳᠠᠯᠢᠬᠠᠨ ᠨᠡᠷ\u180eᠡ ᠲᠥᠷᠥ ᠲᠡᠢ᠂ ᠢᠵᠢᠯ ᠡᠷᠬᠡ ᠲᠡᠢ "
            "ᠪᠠᠢᠠᠭ᠃")
    predicted, _ = langid.model.predict(" ".join(text.split()), k=1)
    assert predicted[0] == "__label__zh"
    labels, scores = langid.identify([text])
    assert labels == ["mn"]
    assert 0.0 < scores[0] <= 1.0


def test_a_long_text_keeps_fastText_probability(langid):
    text = "오늘은 날씨가 정말 좋아서 친구들과 함께 공원에서 산책을 하고 맛있는 점심을 먹었습니다."
    labels, scores = langid.identify([text])
    predicted, probability = langid.model.predict(text, k=1)
    assert labels == ["ko"] and predicted[0] == "__label__ko"
    assert scores[0] == pytest.approx(min(float(probability[0]), 1.0))


def test_short_text_needs_a_confident_label():
    text = "Artike onzinme"            # Walloon heading; fastText: Swedish at 0.3 or less
    assert LanguageIdentifier(LangIdConfig(short_min_score=0.99)).identify([text])[0] == ["und"]
    assert LanguageIdentifier(LangIdConfig(short_min_score=0.0)).identify([text])[0] != ["und"]


def test_all_capitals_are_read_case_folded(langid):
    labels, _ = langid.identify(["POWSZECHNA DEKLARACJA PRAW CZŁOWIEKA", "DICHIARAZIONE UNIVERSALE DEI DIRITTI UMANI"])
    assert labels == ["pl", "it"]


def test_script_rule_off_is_fastText_as_it_is():
    config = LangIdConfig(script_rule=False, min_chars=0)
    ours = LanguageIdentifier(config)
    texts = ["ޝުކުރިއްޔާ", "Vielen Dank für Ihre Hilfe und bis morgen", "ᠬᠦᠮᠦᠨ ᠪᠦᠷ ᠲᠥᠷᠥᠵᠦ ᠮᠡᠨᠳᠡᠯᠡᠬᠦ ᠡᠷᠬᠡ ᠴᠢᠯᠥᠭᠡ"]
    predicted, _ = ours.model.predict([" ".join(t.split()) for t in texts], k=1)
    assert ours.identify(texts)[0] == [p[0][len("__label__"):] for p in predicted]


def test_multiline_text_is_classified_as_one_line(langid):
    labels, _ = langid.identify(["Ceci est une phrase.\nEt voici une deuxième ligne en français.\n"])
    assert labels == ["fr"]


def test_batch_order_and_mixed_kinds(langid):
    texts = ["", "안녕하세요", "1234 5678 ////", "Hi", "The committee published its annual report on water quality.",
             "ᠬᠦᠮᠦᠨ ᠪᠦᠷ ᠲᠥᠷᠥᠵᠦ ᠮᠡᠨᠳᠡᠯᠡᠬᠦ ᠡᠷᠬᠡ ᠴᠢᠯᠥᠭᠡ ᠲᠡᠢ᠂ ᠠᠳᠠᠯᠢᠬᠠᠨ ᠨᠡᠷ\u180eᠡ ᠲᠥᠷᠥ ᠲᠡᠢ᠂ ᠢᠵᠢᠯ ᠡᠷᠬᠡ ᠲᠡᠢ ᠪᠠᠢᠠᠭ᠃",
             "สวัสดีครับ"]
    labels, scores = langid.identify(texts)
    assert labels == ["und", "ko", "zxx", "und", "en", "mn", "th"]
    assert scores.dtype == np.float32 and scores[0] == scores[2] == scores[3] == 0.0
    one_by_one = [langid.identify([t])[0][0] for t in texts]
    assert one_by_one == labels


def test_max_chars_limits_what_is_read():
    ours = LanguageIdentifier(LangIdConfig(max_chars=30))
    labels, _ = ours.identify(["한국어 문장입니다 " + "The committee published its annual report. " * 20])
    assert labels == ["ko"]


def test_missing_model_names_the_path(tmp_path):
    with pytest.raises(LangIdModelMissing, match="lid.176"):
        resolve_model_path(str(tmp_path / "lid.176.bin"))


def test_auto_finds_the_packaged_model():
    assert resolve_model_path("auto").name == "lid.176.ftz"


# --- pipeline.extract.scripts -------------------------------------------------------------------

def test_profile_counts_letters_and_visible_characters_as_pipeline_text_does():
    texts = ["", "Hello, world! 123", "मनुष्य के अधिकार", "中文 and English ½ ² Ⅻ", "ﾊﾝｶｸ ｶﾀｶﾅ", "a\u0301 e\u0300",
             "\U0001F600 emoji \U000E0041 tag \ud800 surrogate", "\u00a0\u2003\u3000 spaces\u200b"]
    counts = profile(texts)
    assert counts.letters.tolist() == [letter_count(t) for t in texts]
    assert counts.non_space.tolist() == [non_space_count(t) for t in texts]


def test_units_weigh_characters_by_what_they_carry():
    counts = profile(["abcde", "中文字", "한국어", "かなカナ", "मनुष्य", "ሰላም", "ေကာင်း"])
    # Latin letters 1; Han 3; Hangul syllables 2.5; kana 1.5; Devanagari letters and vowel signs
    # 1 (m n u s y: 4 letters, a vowel sign and a virama); Ethiopic 2; a Burmese mark 0.5.
    assert counts.units.tolist()[:6] == [5.0, 9.0, 7.5, 6.0, 6.0, 6.0]
    assert counts.units[6] == pytest.approx(2 + 0.5 * 4)


@pytest.mark.parametrize("text, system", [
    ("Hello world", "Latn"), ("Привет, мир", "Cyrl"), ("中文句子", "Hani"), ("日本語のテキスト", "Jpan"),
    ("한국어 문장", "Kore"), ("大韓民國 헌법", "Kore"), ("ภาษาไทย", "Thai"), ("", None), ("1234 !!", None),
    ("ab αβ аб", None),                 # no script holds half the units
    ("iPhone 판매", "Latn"), ("판매 중인 iPhone", "Kore"),
])
def test_writing_system(text, system):
    assert writing_system(profile([text]).script_units[0]) == system


def test_writing_systems_is_the_row_by_row_answer():
    texts = ["Hello world", "中文句子", "", "日本語のテキスト", "한국어 문장"]
    rows = profile(texts).script_units
    assert writing_systems(rows) == [writing_system(row) for row in rows]
    assert writing_systems(rows[:0]) == []


def test_languages_of_a_script(langid):
    labels = langid._labels
    assert languages_of("Hang", labels) == frozenset()          # Hangul counts as "Kore"
    assert languages_of("Kore", labels) == {"ko"}
    assert languages_of("Thai", labels) == {"th"}
    assert languages_of("Geor", labels) == {"ka", "xmf"}
    assert languages_of("Hani", labels) == {"zh", "ja", "yue", "wuu"}
    latin = languages_of("Latn", labels)
    assert {"en", "de", "vi", "sr", "az", "uz"} <= latin and not {"ru", "zh", "ja", "ko", "ar", "hi"} & latin
    assert set(LABEL_SCRIPTS) <= labels                            # no typo among the labels


@pytest.mark.parametrize("override, message", [
    ("langid.short_min_score=1.5", "short_min_score"),
    ("langid.short_min_score=-0.1", "short_min_score"),
    ("langid.min_chars=-1", "min_chars"),
])
def test_config_checks(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, ["input=a.warc.gz", override])
