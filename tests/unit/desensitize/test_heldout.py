"""The held-out corpus shares no surname, given-name character or sentence with the development
corpus, and its labels point at what they say."""

from __future__ import annotations

import random

from desensitize import heldout, synthetic
from desensitize.lexicon import DOUBLE_SURNAMES, SINGLE_SURNAMES
from desensitize.recognizers.cn.id_card import IdCardRecognizer


def test_surnames_and_given_names_are_not_the_development_corpus() -> None:
    assert not set(heldout.SURNAMES) & set(SINGLE_SURNAMES)
    assert not set(heldout.COMPOUND_SURNAMES) & set(DOUBLE_SURNAMES)
    assert not set(heldout.GIVEN) & set(synthetic.GIVEN_CHARS)


def test_the_corpus_is_seeded_and_labelled() -> None:
    first, again = heldout.heldout_corpus(5, 300), heldout.heldout_corpus(5, 300)
    assert [t.text for t in first] == [t.text for t in again]
    kinds: set[str] = set()
    for item in first:
        for start, end, entity in item.spans + item.negatives:
            kinds.add(entity)
            assert 0 <= start < end <= len(item.text)
        for name in item.entities("PERSON"):
            assert (
                name.isascii()
                or name[0] in heldout.SURNAMES
                or name[:2] in (heldout.COMPOUND_SURNAMES)
            )
        for number in item.entities("CN_ID_CARD"):
            assert IdCardRecognizer.is_valid(number)
    assert {"PERSON", "CN_ID_CARD", "CN_MOBILE", "DISTRICT", "STREET", "ORGANISATION"} <= kinds


def test_no_held_out_text_is_a_development_text() -> None:
    rng = random.Random(5)
    development = {synthetic.hotline_complaint(rng) for _ in range(300)}
    assert not development & {t.text for t in heldout.heldout_corpus(5, 300)}
