"""pipeline.text.shared_tokenization: the filters of a chain tokenise each text once between them,
and score exactly as each would alone."""
import numpy as np

from filters.base import Batch, TextModifier
from filters.stage import build_chain
from pipeline import text as text_module
from pipeline.config import load_config
from pipeline.text import shared_tokenization, tokens, words

DOCS = [
    "The miller weighs each sack. He writes the price in his book, as his father did.\n"
    "Farmers bring their grain to the town market every week; prices rise in winter.\n" * 3,
    "Buy now!!! Best price best price best price. Click here: http://spam.example/deal\n" * 8,
    "Short line\nAnother short line\n" + "A longer sentence that ends with a full stop and has words. " * 6,
    "Die Müller wiegen jeden Sack. Sie schreiben den Preis in ihr Buch, wie es ihr Vater tat. " * 5,
]


def test_inside_the_block_a_text_is_tokenised_once():
    text = DOCS[0]
    assert tokens(text) == tokens(text) and tokens(text) is not tokens(text)   # no sharing outside
    with shared_tokenization():
        first = tokens(text)
        assert tokens(text) is first and tokens(text[:]) is first                # equal text: same list
        assert words(text) is words(text) and words(text) is not first
        assert tokens(text, "chars") is not first                                # per segmentation
        with shared_tokenization():                                              # nested: one memory
            assert tokens(text) is first
        assert tokens(text) is first
    assert text_module._SHARED is None                                           # released at the end
    assert tokens(text) is not first


def test_a_chain_scores_as_its_filters_do_alone():
    config = load_config(None, ["filter.filters=[c4_lines_v3, gopher_quality_v2, gopher_repetition_v2, c4_v2, "
                                "fineweb_v2, nsfw_words_v2]"])
    chain = build_chain(config.filter)
    documents = [(doc, "en", "https://example.org/", "example.org") for doc in DOCS]
    scored = chain.score_documents(documents)
    texts, alone = list(DOCS), {}
    for f in chain.filters:             # one filter at a time, no shared block: each tokenises for itself
        view = Batch(texts, ["en"] * len(texts), ["https://example.org/"] * len(texts), ["example.org"] * len(texts))
        if isinstance(f, TextModifier):
            texts, scores = f.apply(view)
        else:
            scores = f.score(view)
        alone.update({f"{f.prefix}__{metric}": np.asarray(values, np.float64) for metric, values in scores.items()})
    assert [text for text, _ in scored] == texts
    for i, name in enumerate(chain.score_names()):
        np.testing.assert_array_equal([row[i] for _, row in scored], alone[name], err_msg=name)
