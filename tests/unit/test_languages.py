"""Each language's analyzer on real text of that language."""

import logging
from pathlib import Path

import pytest

from babelir.errors import BabelirError
from babelir.text import segment
from babelir.text.language_aware import LanguageAwareAnalyzer
from babelir.text.languages import LANGUAGES

A = LanguageAwareAnalyzer(pieces=False)  # the word pipeline; the mE5 pieces are tested on their own below

# language: (real text, terms that must come out of it)
SAMPLES = {
    "ar": ("القاهرة هي عاصمة مصر وأكبر مدنها، والمدارس كثيرة", {"قاهر", "عاصم", "اكبر", "مدرس"}),
    "bn": ("ঢাকা বাংলাদেশের রাজধানী এবং বৃহত্তম শহর", {"ঢাকা", "রাজধানী", "শহর"}),
    "de": ("Die Kinder spielten gestern im großen Garten der Straße", {"kind", "gross", "gart", "strass"}),
    "en": ("The children were running through the city's gardens", {"run", "citi", "garden"}),
    "es": ("Los niños jugaban en los jardines de la ciudad", {"niñ", "jardin", "ciud"}),
    "fa": ("تهران پایتخت ایران و بزرگ‌ترین شهر آن است", {"تهران", "پایتخت", "بزرگ", "شهر"}),
    "fi": ("Helsinki on Suomen pääkaupunki ja suurin kaupunki", {"pääkaupunk", "kaupunk"}),
    "fr": ("L'enfant jouait dans les jardins de l'hôtel de ville", {"enfant", "hôtel", "jardin", "vill"}),
    "hi": ("नई दिल्ली भारत की राजधानी है और यह एक बड़ा शहर है", {"भारत", "राजधान", "शहर"}),
    "id": ("Jakarta adalah ibu kota Indonesia dan kota terbesar", {"jakarta", "kota", "besar"}),
    "ja": ("東京は日本の首都であり、最大の都市です", {"東京", "日本", "首都", "都市"}),
    "ko": ("서울은 대한민국의 수도이며 가장 큰 도시이다", {"서울", "수도", "도시"}),
    "ru": ("Москва является столицей России и крупнейшим городом", {"москв", "столиц", "город"}),
    "sw": ("Nairobi ni mji mkuu wa Kenya na jiji kubwa zaidi", {"nairobi", "mji", "mkuu", "kenya"}),
    "te": ("హైదరాబాద్ తెలంగాణ రాష్ట్ర రాజధాని", {"హైదరాబాద్", "రాజధాని"}),
    "th": ("กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย", {"กรุงเทพมหานคร", "เมือง", "หลวง", "ประเทศไทย"}),
    "yo": ("Èkó ni ìlú tó tóbi jùlọ ní Nàìjíríà", {"eko", "ilu", "tobi", "julọ", "naijiria"}),
    "zh": ("北京是中华人民共和国的首都", {"北京", "共和国", "首都"}),
    "ha": ("Abuja ita ce babban birnin tarayyar Najeriya", {"abuja", "birnin", "najeriya"}),
    "so": ("Muqdisho waa caasimadda Soomaaliya", {"muqdisho", "caasimadda", "soomaaliya"}),
    "el": ("Η Αθήνα είναι η πρωτεύουσα της Ελλάδας", {"αθην", "πρωτευ", "ελλαδ"}),
    "tr": ("Ankara, Türkiye'nin başkentidir ve İstanbul en büyük şehirdir", {"türki", "istanbul", "şehir"}),
    "vi": ("Hà Nội là thủ đô của Việt Nam", {"hà", "nội", "thủ", "đô", "việt"}),
    "km": ("ភ្នំពេញជារាជធានីនៃប្រទេសកម្ពុជា", {"ភ្នំពេញ", "រាជធានី", "កម្ពុជា"}),
    "lo": ("ວຽງຈັນເປັນນະຄອນຫຼວງຂອງປະເທດລາວ", {"ວຽງຈັນ", "ນະຄອນຫຼວງ", "ລາວ"}),
    "my": ("နေပြည်တော်သည်မြန်မာနိုင်ငံ၏မြို့တော်ဖြစ်သည်", {"နေပြည်တော်", "မြို့တော်"}),
    "am": ("አዲስ አበባ የኢትዮጵያ ዋና ከተማ ናት", {"አዲስ", "አበባ", "ከተማ"}),
    "ta": ("சென்னை தமிழ்நாட்டின் தலைநகரம் ஆகும்", {"தமிழ்நாடு", "தலைநகரம்"}),
    "ur": ("اسلام آباد پاکستان کا دارالحکومت ہے", {"اسلام", "اباد", "پاکستان"}),
    "ne": ("काठमाडौं नेपालको राजधानी हो", {"काठमाडौं", "नेपाल", "राजधानी"}),
    "he": ("יְרוּשָׁלַיִם היא בירת ישראל", {"ירושלים", "בירת", "ישראל"}),
    "uk": ("Київ є столицею України", {"київ", "столицею", "україни"}),
    "pl": ("Warszawa jest stolicą Polski i największym miastem", {"warszaw", "stolic", "miast"}),
    "nl": ("Amsterdam is de hoofdstad van Nederland", {"amsterdam", "hoofdstad", "nederland"}),
    "pt": ("Lisboa é a capital de Portugal e a maior cidade do país", {"lisbo", "capital", "cidad"}),
    "it": ("Roma è la capitale d'Italia e la città più grande", {"rom", "capital", "ital", "grand"}),
    "sv": ("Stockholm är Sveriges huvudstad och största stad", {"stockholm", "huvudst", "stad"}),
    "tl": ("Ang Maynila ay ang kabisera ng Pilipinas", {"maynila", "kabisera", "pilipinas"}),
    # added in analyzer version 4
    "ka": ("საქართველოს დედაქალაქი თბილისია და წიგნები მაგიდაზეა", {"საქართველო", "დედაქალაქი", "წიგნი"}),
    "zu": ("IGoli yidolobha elikhulu kunawo wonke eNingizimu Afrika", {"igoli", "yidolobha", "afrika"}),
    "ig": ("Ọ́nịchà bụ̀ obodo dị n'Anambra", {"ọnịcha", "bụ", "obodo", "anambra"}),
    "qu": ("Qusqu llaqtaqa Inka suyup umanmi karqan", {"qusqu", "llaqtaqa", "inka"}),
    "or": ("ଭୁବନେଶ୍ୱର ଓଡ଼ିଶାର ରାଜଧାନୀ", {"ଭୁବନେଶ୍ୱର", "ରାଜଧାନୀ"}),
    "ug": ("ئۈرۈمچى شىنجاڭنىڭ مەركىزى", {"ئۈرۈمچى", "مەركىزى"}),
    "bo": ("ལྷ་ས་ནི་བོད་ཀྱི་རྒྱལ་ས་ཡིན།", {"ལྷ", "བོད", "རྒྱལ"}),          # syllables
    "dz": ("ཐིམ་ཕུ་ནི་འབྲུག་གི་རྒྱལ་ས་ཨིན།", {"ཐིམ", "འབྲུག", "རྒྱལ"}),
    "ti": ("ኣስመራ ርእሰ ከተማ ኤርትራ እያ፡ብዙሓት ሰባት", {"ኣስመራ", "ከተማ", "ኤርትራ", "እያ", "ብዙሓት"}),
}

# Inflected or differently written forms that a language's pipeline must bring together.
SAME_TERMS = {
    "ar": ["المدرسة", "مدرسة", "والمدرسة"],
    "ur": ["۳۰۸", "308"],              # Extended Arabic-Indic digits
    "de": ["Gärten", "Garten"],
    "en": ["running", "runs", "run"],
    "es": ["jardines", "jardín"],
    "fa": ["كتاب", "کتاب"],          # Arabic kaf -> Persian kaf
    "fr": ["l'hôtel", "hôtels"],
    "el": ["Αθήνα", "ΑΘΗΝΑ", "Αθηνα"],
    "hi": ["क़िला", "किला"],          # nukta
    "he": ["שָׁלוֹם", "שלום"],          # niqqud
    "ru": ["городами", "городом", "город"],
    "th": ["๓๐๘", "308"],              # Thai digits
    "bn": ["৩০৮", "308"],              # Bengali digits
    "tr": ["İstanbul'da", "istanbul"],
    "yo": ["Yorùbá", "Yoruba"],
    "pt": ["cidades", "cidade"],
    "sv": ["städerna", "städer"],
    "ig": ["Ọ́nụ̀", "Ọnụ"],              # tone marks optional, under-dots kept
    "ka": ["წიგნები", "წიგნი"],        # simplemma's Georgian lemmas
    "ug": ["ئۇيـغۇر", "ئۇيغۇر"],          # tatweel
    "or": ["୧୨୩", "123"],              # Odia digits
}


def test_every_issue_language_has_a_pipeline_and_a_sample():
    required = ("ar bn de en es fa fi fr hi id ja ko ru sw te th yo zh ha so el tr vi "
                "km lo my am ta ur ne he uk pl nl pt it sv tl ka zu ig qu or ug bo dz ti").split()
    assert set(required) <= set(LANGUAGES)
    assert set(required) == set(SAMPLES)


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_real_text(lang):
    text, expected = SAMPLES[lang]
    terms = A.analyze(text, lang)
    assert expected <= set(terms), (lang, terms)
    assert A.analyze(text, lang) == terms  # deterministic


@pytest.mark.parametrize("lang", sorted(SAME_TERMS))
def test_variants_meet(lang):
    analysed = {tuple(A.analyze(form, lang)) for form in SAME_TERMS[lang]}
    assert len(analysed) == 1, (lang, analysed)


# Forms only a lemmatiser brings together: the stemmer alone leaves them apart.
LEMMA_PAIRS = {
    "en": ["children", "child"],
    "es": ["fui", "ser"],
    "ar": ["المدارس", "مدرسة"],     # broken plural
    "ru": ["шёл", "идти"],
    "tr": ["gitti", "gitmek"],
    "fr": ["yeux", "œil"],
}


@pytest.mark.parametrize("lang", sorted(LEMMA_PAIRS))
def test_lemmatising_meets_forms_the_stemmer_leaves_apart(lang):
    plain = LanguageAwareAnalyzer(lemmatize=False, pieces=False, _notify=False)
    assert len({tuple(plain.analyze(form, lang)) for form in LEMMA_PAIRS[lang]}) == 2
    assert len({tuple(A.analyze(form, lang)) for form in LEMMA_PAIRS[lang]}) == 1


def test_an_index_of_version_3_analyses_the_languages_added_in_version_4_as_it_did():
    from babelir.text.analyzer import analyzer_from_config

    old = analyzer_from_config({**A.config(), "version": 3})
    assert old.analyze("წიგნები", "ka") == ["წიგნები"]  # the script-aware default, as then
    assert old.describe("ka")["name"] == "(script-aware default)"
    assert A.analyze("წიგნები", "ka") == ["წიგნი"] and A.describe("ka")["missing"]


def test_german_lemmas_read_a_case_folded_noun_as_a_noun():
    # "garten" alone is a form of the verb "garen"; "grossen" would become the noun "Gros"
    assert A.analyze("Garten", "de") == A.analyze("Gärten", "de") == ["gart"]
    assert A.analyze("großen", "de") == A.analyze("groß", "de")


def test_an_index_of_version_1_keeps_being_analysed_without_lemmas():
    from babelir.text.analyzer import analyzer_from_config

    old = analyzer_from_config({"name": "language-aware", "version": 1, "stopwords": False, "segmenters": {}})
    assert old.analyze("children", "en") == ["children"]
    new = analyzer_from_config(A.config())
    assert A.config()["version"] == 7 and A.config()["lemmatize"] is True
    assert new.analyze("children", "en") == ["child"]


def test_the_default_adds_the_mE5_pieces_except_where_they_were_measured_to_hurt():
    default = LanguageAwareAnalyzer(_notify=False)
    assert default.analyze("Bibliothek", "de") == ["bibliothek", "~bibliothek"]
    compound = default.analyze("Universitätsbibliothek", "de")
    assert "universitatsbibliothek" in compound and "~bibliothek" in compound  # the compound meets its part
    assert default.analyze("المدارس", "ar") == A.analyze("المدارس", "ar")  # ar, vi: words only
    assert default.analyze("Việt Nam", "vi") == A.analyze("Việt Nam", "vi")
    assert default.analyze("Ndiyo", None) == ["ndiyo", "~▁ndiyo"]
    assert default.describe("de")["pieces"] == "mE5" and default.describe("vi")["pieces"] is None


def test_an_index_of_version_2_keeps_being_analysed_without_pieces_and_a_changed_vocabulary_is_refused():
    from babelir.errors import BabelirError
    from babelir.text.analyzer import analyzer_from_config

    old = analyzer_from_config({"name": "language-aware", "version": 2, "stopwords": False, "lemmatize": True,
                                "segmenters": {}})
    assert old.analyze("children", "en") == ["child"]
    config = LanguageAwareAnalyzer(_notify=False).config()
    assert analyzer_from_config(config).analyze("children", "en") == ["child", "~▁children"]
    with pytest.raises(BabelirError, match="piece vocabulary"):
        analyzer_from_config({**config, "pieces_vocabulary": "0" * 64})


@pytest.mark.parametrize("lang", ["th", "zh", "ja", "km", "lo", "my"])
def test_unspaced_scripts_are_split_into_words(lang):
    text, _ = SAMPLES[lang]
    assert len(A.analyze(text, lang)) >= 3


def test_unknown_or_missing_language_gets_the_script_aware_default():
    assert A.analyze("Ndiyo, HABARI!", None) == ["ndiyo", "habari"]
    assert A.analyze("Ndiyo, HABARI!", "xx") == ["ndiyo", "habari"]


def test_stopwords_are_optional():
    with_stop = LanguageAwareAnalyzer(stopwords=True).analyze("The city and the river", "en")
    assert "the" not in with_stop and "and" not in with_stop and "citi" in with_stop
    assert "the" in A.analyze("The city and the river", "en")


def test_segmenter_choice_is_recorded_and_checked(monkeypatch):
    jieba = LanguageAwareAnalyzer(segmenters={"zh": "jieba"})
    assert jieba.config()["segmenters"]["zh"] == "jieba"
    assert "首都" in jieba.analyze("北京是中华人民共和国的首都", "zh")
    newmm = LanguageAwareAnalyzer(segmenters={"th": "newmm"})
    assert {"เมืองหลวง", "ไทย"} <= set(newmm.analyze("กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย", "th"))
    with pytest.raises(BabelirError, match="unknown segmenter"):
        LanguageAwareAnalyzer(segmenters={"zh": "nope"})
    monkeypatch.setattr(segment, "available", lambda name: name == "icu")
    with pytest.raises(BabelirError, match="babelir\\[ja\\]"):
        LanguageAwareAnalyzer.from_config({"name": "language-aware", "version": 1, "segmenters": {"ja": "sudachi"}})


def test_missing_segmenter_falls_back_to_icu_and_says_so_once(monkeypatch, caplog):
    from babelir.text import language_aware

    monkeypatch.setattr(segment, "available", lambda name: name == "icu")
    monkeypatch.setattr(language_aware, "_NOTIFIED", set())
    with caplog.at_level(logging.WARNING, logger="babelir.text.language_aware"):
        first = LanguageAwareAnalyzer()
        LanguageAwareAnalyzer()
    assert first.segmenters["ja"] == "icu" and first.segmenters["ko"] == "icu"
    notices = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ja:")]
    assert len(notices) == 1 and "babelir[ja]" in notices[0]
    assert "東京" in first.analyze("東京は日本の首都です", "ja")


def test_detection_among_the_languages_an_index_holds():
    from babelir.text.langid import detect

    assert detect("coffee") not in ("en", "de")  # one word: py3langid alone guesses another language
    assert detect("coffee", among=("en", "de", "th", "zh", "ar")) in ("en", "de")
    assert detect("北京是中华人民共和国的首都", among=("en", "zh")) == "zh"
    assert detect("The Moon is Earth's only natural satellite", among=("en",)) == "en"  # one: unrestricted
    assert detect("1234", among=("en", "de")) == "und"


def test_lemma_dictionaries_are_mapped_from_the_cache_and_a_changed_one_is_built_again(tmp_path, monkeypatch):
    import os

    from babelir.text import stem

    monkeypatch.setenv("BABELIR_CACHE_DIR", str(tmp_path))
    first = stem._trie_factory().get_dictionary("en")  # built, then saved whole (atomically), stamped
    saved = next(tmp_path.rglob("en.dic"))
    assert first.get("houses") == "house" and saved.with_name("en.dic.stamp").is_file()
    mapped = stem._trie_factory().get_dictionary("en")  # a new process: the saved file, memory-mapped
    assert mapped.get("houses") == "house"
    if Path("/proc/self/maps").exists():
        assert str(saved) in Path("/proc/self/maps").read_text()

    def damaged(change):
        before = saved.stat()
        change()
        after = saved.stat()
        if saved.exists() and (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
            os.utime(saved, ns=(after.st_atime_ns, after.st_mtime_ns + 10**9))  # written within one clock tick
        again = stem._trie_factory().get_dictionary("en")  # not trusted: built again, saved, stamped
        assert again.get("houses") == "house"
        assert stem._trie_factory().get_dictionary("en").get("houses") == "house"
        assert saved.with_name("en.dic.stamp").read_text() == stem._stamp(saved)

    data = saved.read_bytes()
    damaged(lambda: saved.write_bytes(data[:1000]))  # cut short: MARISA refuses it
    data = saved.read_bytes()
    middle = len(data) // 2  # well-formed but scribbled on: MARISA would answer wrongly
    damaged(lambda: saved.write_bytes(data[:middle] + os.urandom(20_000) + data[middle + 20_000:]))
    damaged(lambda: saved.with_name("en.dic.stamp").unlink())  # a cache from before stamps
