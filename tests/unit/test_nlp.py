"""The dispatch text classifier: normalisation, words, features, model, save/load, evaluation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jieba
import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from megacity.io.rows import clean_text
from megacity.io.tabular import open_table
from megacity.nlp import text as nlp_text
from megacity.nlp.classifier import (
    ModelError,
    TextClassifier,
    as_input,
    build_pipeline,
    top_k,
    train,
)
from megacity.nlp.evaluate import cross_validate, format_report
from megacity.nlp.text import ID_TOKEN, MAX_CHARS, PHONE_TOKEN, TokenTfidf, normalise, words

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "classify" / "teddycup_labeled_120.csv"

TOPICS = {
    "噪音": ["工地夜间施工噪音扰民", "广场舞音响噪音太大", "楼下餐馆排风机噪音", "凌晨施工噪声严重影响休息"],
    "路灯": [
        "小区路灯不亮晚上很黑",
        "道路路灯损坏无人维修",
        "人行道路灯坏了一个月",
        "路灯整夜不亮存在安全隐患",
    ],
    "医保": ["医保报销比例太低", "异地就医医保无法结算", "医疗保险缴费查询不到", "退休职工医保待遇问题"],
}


def tiny() -> tuple[list[str], list[str], list[str]]:
    """12 texts in 3 classes, with titles."""
    texts, titles, labels = [], [], []
    for label, sentences in TOPICS.items():
        for i, sentence in enumerate(sentences):
            titles.append(sentence[:6])
            texts.append(f"您好，{sentence}，希望有关部门尽快处理。联系电话1390013900{i}。")
            labels.append(label)
    return texts, titles, labels


def sample() -> tuple[list[str], list[str], list[str]]:
    """The shipped 120-row Teddy Cup sample: texts, titles, labels (cleaned)."""
    texts, titles, labels = [], [], []
    for record in open_table(SAMPLE).records():
        texts.append(clean_text(record.cells["留言详情"]) or "")
        titles.append(clean_text(record.cells["留言主题"]) or "")
        labels.append(clean_text(record.cells["一级分类"]) or "")
    return texts, titles, labels


# --- normalisation -----------------------------------------------------------------------------


def test_normalise_strips_padding_and_makes_full_width_half_width() -> None:
    assert normalise("\n\t\t\u3000\u3000投诉ＡＢＣ　噪音１２３！\xa0\n\t") == "投诉abc 噪音123!"
    assert normalise("第一段\n\t\t\n  第二段") == "第一段\n第二段"
    assert normalise("ＷｉＦｉ信号差") == "wifi信号差"


@pytest.mark.parametrize("value", [None, "", " \u3000\n\t ", float("nan")])
def test_normalise_empty_values(value: object) -> None:
    assert normalise(value) == ""


def test_normalise_caps_long_texts() -> None:
    assert len(normalise("路" * 10 * MAX_CHARS)) == MAX_CHARS
    assert normalise("路灯坏了" * 10, limit=5) == "路灯坏了路"


@pytest.mark.parametrize(
    ("raw", "token"),
    [
        ("手机13800138000请回电", PHONE_TOKEN),
        ("手机１３８００１３８０００请回电", PHONE_TOKEN),  # full-width digits
        ("座机010-12345678请回电", PHONE_TOKEN),
        ("身份证110101199001011234号", ID_TOKEN),
        ("身份证11010119900101123X号", ID_TOKEN),
        ("身份证11010119900101123x号", ID_TOKEN),
    ],
)
def test_normalise_replaces_phone_and_id_numbers(raw: str, token: str) -> None:
    result = normalise(raw)
    assert token in result
    assert not re.search(r"\d{4}", result), result  # no fragment of the number survives
    assert "*" not in result


def test_numbers_that_are_not_personal_stay() -> None:
    assert normalise("2019年3月供暖费1200元") == "2019年3月供暖费1200元"


# --- words and features -----------------------------------------------------------------------


def test_words_are_jieba_full_mode_words_of_two_to_four_chinese_characters() -> None:
    texts, titles, _ = sample()
    for text in (*titles[:20], *texts[:20]):
        doc = normalise(text)[: nlp_text.WORD_CHARS]
        chinese = re.compile(r"[\u4e00-\u9fff]{2,4}")
        expected = [w for w in jieba.lcut(doc, cut_all=True) if chinese.fullmatch(w)]
        assert sorted(w for w in words(doc) if chinese.fullmatch(w)) == sorted(expected)


def test_words_of_texts_without_chinese() -> None:
    assert words("") == []
    assert words("ok 123 !! 4s wifi2") == ["ok", "wifi2"]


def test_token_tfidf_matches_scikit_learn() -> None:
    docs = [normalise(t) for t in sample()[0][:40]]
    ours = TokenTfidf("chars").fit_transform(docs).toarray()
    theirs = TfidfVectorizer(analyzer=nlp_text.chars, sublinear_tf=True).fit_transform(docs).toarray()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_token_tfidf_transform_finds_the_same_words_as_training() -> None:
    docs = [normalise(t) for t in sample()[0][:40]]
    vectoriser = TokenTfidf("words")
    fitted = vectoriser.fit_transform(docs).toarray()
    np.testing.assert_allclose(vectoriser.transform(docs).toarray(), fitted, atol=1e-12)
    unseen = vectoriser.transform(["", "xyzzy"])
    assert unseen.shape == (2, len(vectoriser.vocabulary_)) and unseen.nnz == 0
    empty = TokenTfidf("words").fit_transform(["", "123"])  # no word at all: one column of zeros
    assert empty.shape == (2, 1) and empty.nnz == 0


def test_columns_without_words_still_train() -> None:
    model = train(
        [None] * 6,
        ["a", "a", "a", "b", "b", "b"],
        ["路灯坏了", "路灯不亮", "路灯", "噪音扰民", "施工", "噪音"],
    )
    assert model.predict([None], ["噪音"])[0].label == "b"
    english = train(
        ["bad road", "bad light", "noise at night", "loud noise"], ["road", "road", "noise", "noise"]
    )
    assert english.predict(["the noise"])[0].label == "noise"


# --- model -------------------------------------------------------------------------------------


def test_tiny_model_predicts_with_top3_and_sensible_confidences() -> None:
    texts, titles, labels = tiny()
    model = train(texts, labels, titles)
    predictions = model.predict(["晚上施工噪音很大，吵得睡不着", "路灯坏了"], ["施工噪音", "路灯"])
    assert [p.label for p in predictions] == ["噪音", "路灯"]
    for p in predictions:
        assert len(p.top) == 3 and len({label for label, _ in p.top}) == 3
        assert p.top[0] == (p.label, p.confidence)
        assert 0.0 <= p.top[2][1] <= p.top[1][1] <= p.confidence <= 1.0
        assert sum(confidence for _, confidence in p.top) == pytest.approx(1.0)  # 3 classes: all of them
    probabilities = model.pipeline.predict_proba(as_input(texts, titles))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_empty_and_title_only_texts_get_a_prediction() -> None:
    texts, titles, labels = tiny()
    model = train(texts, labels, titles)
    predictions = model.predict([None, "", "医保"], [None, "路灯不亮", None])
    assert len(predictions) == 3
    assert predictions[1].label == "路灯"
    assert model.predict([]) == []


def test_text_only_model() -> None:
    texts, _, labels = tiny()
    model = train(texts, labels)
    assert not model.uses_title
    assert model.predict(["医保报销查询"])[0].label == "医保"


def test_pipeline_has_named_steps_and_settable_c() -> None:
    pipeline = build_pipeline()
    assert list(pipeline.named_steps) == ["normalise", "features", "clf"]
    pipeline.set_params(clf__C=0.25)
    assert pipeline.named_steps["clf"].C == 0.25


def test_training_is_deterministic() -> None:
    texts, titles, labels = tiny()
    first = train(texts, labels, titles).pipeline.predict_proba(as_input(texts, titles))
    second = train(texts, labels, titles).pipeline.predict_proba(as_input(texts, titles))
    np.testing.assert_array_equal(first, second)


def test_conflicting_duplicates_are_left_out_of_training() -> None:
    texts, titles, labels = tiny()
    model = train([*texts, texts[0], texts[0]], [*labels, "路灯", "路灯"], [*titles, titles[0], titles[0]])
    assert model.meta["dropped_conflicting"] == 3  # the original and both copies
    assert model.meta["training_size"] == len(texts) - 1


def test_single_class_cannot_be_trained() -> None:
    with pytest.raises(ValueError, match="two classes"):
        train(["路灯坏了", "路灯不亮"], ["路灯", "路灯"])


def test_a_class_with_one_example_still_trains_calibrated() -> None:
    texts, titles, labels = tiny()
    model = train([*texts, "垃圾清运不及时"], [*labels, "环卫"], [*titles, "垃圾"])
    assert model.pipeline.named_steps["clf"].calibrated_
    assert model.labels == ["医保", "噪音", "环卫", "路灯"]
    assert len(model.predict(["垃圾"])[0].top) == 3


def test_too_few_examples_to_calibrate() -> None:
    model = train(["路灯坏了", "噪音扰民", "路灯不亮"], ["路灯", "噪音", "路灯"])
    assert not model.pipeline.named_steps["clf"].calibrated_
    assert model.predict(["路灯"])[0].label == "路灯"


def test_top_k_with_fewer_classes_than_k() -> None:
    (prediction,) = top_k(np.array([[0.4, 0.6]]), ["a", "b"], k=3)
    assert prediction.label == "b" and [label for label, _ in prediction.top] == ["b", "a"]


# --- save and load -----------------------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    texts, titles, labels = tiny()
    model = train(texts, labels, titles)
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["labels"] == ["医保", "噪音", "路灯"]
    assert meta["training_size"] == 12 and meta["params"]["title"] is True
    assert re.fullmatch(r"[0-9a-f]{12}-\d{8}T\d{6}Z", meta["version"])
    assert meta["sklearn_version"]
    loaded = TextClassifier.load(tmp_path / "m")
    assert loaded.predict(texts, titles) == model.predict(texts, titles)


def test_load_refuses_damaged_and_incompatible_models(tmp_path: Path) -> None:
    texts, titles, labels = tiny()
    folder = tmp_path / "m"
    train(texts, labels, titles).save(folder)
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "sklearn_version": "0.24.2"}), encoding="utf-8")
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        TextClassifier.load(folder)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    (folder / "model.joblib").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="sha256"):
        TextClassifier.load(folder)
    with pytest.raises(ModelError, match="no such model folder"):
        TextClassifier.load(tmp_path / "missing")
    meta_path.write_text("{", encoding="utf-8")
    with pytest.raises(ModelError, match="metadata"):
        TextClassifier.load(folder)


# --- evaluation --------------------------------------------------------------------------------


def test_cross_validation_reports_every_part() -> None:
    texts, titles, labels = sample()
    result = cross_validate(texts, labels, titles, folds=3, repeats=2)
    assert result.rows == 118 and result.folds == 3 and len(result.fold_f1) == 6
    assert result.f1 > 0.6 and 0.0 <= result.f1_std < 0.2
    assert abs(result.mean_confidence - result.accuracy) < 0.15  # calibrated
    assert result.confusion.sum() == 2 * 118
    report = format_report(result)
    for part in ("macro-F1", "accuracy", "per-class F1", "confusion matrix", "城乡建设"):
        assert part in report
    assert any("conflicting" in note for note in result.notes)


def test_small_classes_reduce_the_folds_and_singletons_are_left_out() -> None:
    texts, titles, labels = tiny()
    texts, titles, labels = texts[:10], titles[:10], labels[:10]  # 医保 keeps 2 examples
    result = cross_validate([*texts, "垃圾"], [*labels, "环卫"], [*titles, "垃圾"], folds=5, repeats=1)
    assert result.folds == 2 and result.labels == ["医保", "噪音", "路灯"]
    assert any("single example" in note for note in result.notes)
    assert any("2 folds" in note for note in result.notes)
