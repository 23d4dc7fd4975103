import pytest

from pipeline.config import LangIdConfig
from pipeline.extract.langid import LangIdModelMissing, LanguageIdentifier, resolve_model_path


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
    ("1234 5678 9012 3456 7890 #### **** ---- 1234 5678 9012 3456 7890 //// 0000", "zxx"),
])
def test_identify(langid, text, lang):
    labels, scores = langid.identify([text])
    assert labels == [lang]
    if lang in ("und", "zxx"):
        assert scores[0] == 0.0
    else:
        assert 0.5 < scores[0] <= 1.0


def test_multiline_text_is_classified_as_one_line(langid):
    labels, _ = langid.identify(["Ceci est une phrase.\nEt voici une deuxième ligne en français.\n"])
    assert labels == ["fr"]


def test_missing_model_names_the_path(tmp_path):
    with pytest.raises(LangIdModelMissing, match="lid.176"):
        resolve_model_path(str(tmp_path / "lid.176.bin"))


def test_auto_finds_the_packaged_model():
    assert resolve_model_path("auto").name == "lid.176.ftz"
