import pytest

from babelir.errors import BabelirError
from babelir.text.analyzer import ScriptAwareAnalyzer, analyzer_from_config

A = ScriptAwareAnalyzer()


@pytest.mark.parametrize("text,expected", [
    ("The U.S. economy grew 3.5% in 2024!", ["the", "u.s", "economy", "grew", "3.5", "in", "2024"]),
    ("ＡＢＣ　ｆｕｌｌｗｉｄｔｈ", ["abc", "fullwidth"]),                  # NFKC
    ("Straße STRASSE", ["strasse", "strasse"]),                       # case folding
    ("ภาษาไทยเป็นภาษาที่มีวรรณยุกต์", ["ภาษา", "ไทย", "เป็น", "ภาษา", "ที่", "มี", "วรรณยุกต์"]),  # Thai words
    ("北京是中华人民共和国的首都", ["北京", "是", "中华", "人民", "共和国", "的", "首都"]),  # Chinese words
    ("ព្រះរាជាណាចក្រកម្ពុជា", ["ព្រះរាជាណាចក្រ", "កម្ពុជា"]),                           # Khmer words
    ("东京は日本の首都です", ["东京", "は", "日本", "の", "首都", "です"]),
    ("", []),
    ("  ...  !!! ", []),
])
def test_script_aware_analysis(text, expected):
    assert A.analyze(text) == expected


def test_unspaced_scripts_are_not_one_token():
    for text in ("สวัสดีครับยินดีต้อนรับสู่ประเทศไทย", "欢迎来到中华人民共和国首都北京", "ສະບາຍດີປະເທດລາວ", "မြန်မာနိုင်ငံသို့ကြိုဆိုပါသည်"):
        assert len(A.analyze(text)) >= 3, text


def test_analysis_is_deterministic_and_ignores_lang_for_the_default():
    text = "Habari ya asubuhi, rafiki yangu! مرحبا بالعالم"
    assert A.analyze(text, "sw") == A.analyze(text) == A.analyze(text, None)


def test_config_roundtrip_and_unknown_version():
    assert analyzer_from_config(A.config()).analyze("Hi") == ["hi"]
    with pytest.raises(BabelirError, match="rebuild"):
        analyzer_from_config({"name": "script-aware", "version": 99})
