"""The fast YAML path yields exactly what PyYAML yields, and is really taken."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import write_corpus
from site_gen import fastyaml
from site_gen.load import split_front_matter
from tests.conftest import CORPUS, SEEDS


def _front_matters(paths):
    for path in paths:
        parts = split_front_matter(path.read_text(encoding="utf-8-sig"), str(path), [])
        if parts:
            yield path, parts[0]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    write_corpus(out, 300, seed=7)
    return out


def test_fast_path_matches_pyyaml_on_seeds_corpus_and_generated_records(generated):
    paths = sorted(SEEDS.glob("*.txt")) + sorted((CORPUS / "figures").glob("*.md"))
    paths += sorted((generated / "figures").iterdir()) + sorted((generated / "_organisms").iterdir())
    fast = 0
    for path, text in _front_matters(paths):
        assert fastyaml.load(text) == fastyaml.load_reference(text), path
        fast += fastyaml.fast_result(text) is not None
    assert len(paths) > 450
    assert fast > 0.8 * len(paths)  # the fast parser carries most records


@pytest.mark.parametrize("text", [
    "a: On\n", "a: [yes, no, off]\n", "- n\n", "Yes: 1\n", "a: 010\n", "a: 0o17\n", "a: 1e5\n", "a: 1_000\n",
    "a: 1:20\n", "a: 2001-01-01\n", "a: 2001-12-14t21:59:43.10-05:00\n", "a: !!str 1\n", "a: ~\n", "a: 'On'\n",
    "a: .inf\n", "a: +12\n", "a: 0x1F\n", "a: &x 1\nb: *x\n", "a: 1\na: 2\n", "a: <<\n", "<<: {b: 1}\n",
    "a: .na.character\nb: NA\nc: ''\n", "caption: >-\n  folded\n  text\n", "a: \"\\u00e9 \\t\"\n",
])
def test_yaml_11_and_12_differences_go_to_pyyaml(text):
    def outcome(load):
        try:
            return load(text)
        except Exception as exc:  # noqa: BLE001 - the same refusal counts as the same outcome
            return type(exc)
    assert outcome(fastyaml.load) == outcome(fastyaml.load_reference)


def test_invalid_yaml_raises_pyyaml_errors_with_marks():
    import yaml
    with pytest.raises(yaml.MarkedYAMLError):
        fastyaml.load("a: [1, 2\nb: c\n")


_NUMBERISH = st.text(alphabet="0123456789_.eExXoObBaFfInN+-: ", min_size=1, max_size=8).map(str.strip).filter(bool)


@settings(max_examples=400, deadline=None)
@given(value=_NUMBERISH, place=st.sampled_from(["a: {}\n", "a: {}  # note\n", "a: [{}, 1]\n", "a: {{b: {}}}\n",
                                                "- {}\n", "{}: x\n", "a: {{{}: 1}}\n", "a: x {}\n", "a: {}-x\n"]))
def test_number_like_values_read_as_pyyaml_reads_them(value, place):
    """Leading zeros, exponents, bases, underscores and colons, in every place a value can stand: the
    fast path either yields PyYAML's value or hands the text to PyYAML."""
    text = place.format(value)
    try:
        expected = fastyaml.load_reference(text)
    except Exception:  # noqa: BLE001 - text PyYAML refuses is PyYAML's to report
        return
    assert repr(fastyaml.load(text)) == repr(expected)  # repr tells 1 from 1.0 and '1', and matches nan
