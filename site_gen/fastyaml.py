"""Front matter parsed fast, with PyYAML's meaning.

PyYAML's C loader costs about 2 ms for a 6 KB record; the `yaml-rs` parser is about 8 times faster.
It reads YAML 1.2, PyYAML reads YAML 1.1, and the two disagree on some plain scalars (`On`, `yes`,
`010`, `1_000`, `1:20`, dates). So the fast parser is used only on text where nothing could be read
differently (no 1.1 boolean words, leading zeros, exponents without a dot, base-60 or underscored
numbers, dates or tags); everything else, and everything it refuses, goes to PyYAML, which stays the
reference and gives the line-numbered error reports.
"""
from __future__ import annotations

import re

import yaml

try:  # the fast parser is optional: without it every record goes through PyYAML
    import yaml_rs
except ImportError:  # pragma: no cover - exercised only where yaml-rs is not installed
    yaml_rs = None

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Where YAML 1.1 and 1.2 can read the same text differently. Two checks, both cheap:
# 1. in the text: numbers the fast parser turns into a different number (010 is octal in 1.1,
#    0o17 a number only in 1.2, 1e5 a string in 1.1) and explicit tags (`!!str`);
# 2. in the parsed values: strings YAML 1.1 would have read as something else (yes/no/on/off,
#    1:20 in base 60, 1_000, dates, merge keys). A quoted 'On' also fails this check, which only
#    costs a slower parse. Anything flagged goes to PyYAML.
_RISKY_NUMBER = re.compile(r"[\s:\-\[,{][-+]?(?:0[0-9_oObBxX]|[0-9.]+[eE][-+]?[0-9])")
_BOOL_WORDS = frozenset("yes Yes YES no No NO on On ON off Off OFF y Y n N true True TRUE false False FALSE "
                        "null Null NULL ~ = <<".split())
_NUMBER_START = frozenset("0123456789+-.")
_YAML11_OTHER = re.compile(r"""(?x)
    [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?  # base 60
  | [-+]?(?:[0-9][0-9_]*_[0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?  # underscores
  | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*  # dates and times
""")  # (a string of a number both versions read as a number must have been quoted: no difference)


def risky(text: str) -> bool:
    """Could the text hold numbers or tags that YAML 1.1 and 1.2 read differently?"""
    return "!" in text or _RISKY_NUMBER.search(text) is not None


def _strings_differ(value) -> bool:
    """Does a parsed value hold a string YAML 1.1 would have read as something else?"""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            if len(item) <= 5 and item in _BOOL_WORDS or item and item[0] in _NUMBER_START and _YAML11_OTHER.fullmatch(item):
                return True
        elif kind is dict:
            for key, sub in item.items():
                if type(key) is not str or len(key) <= 5 and key in _BOOL_WORDS:
                    return True
                stack.append(sub)
        elif kind is list:
            stack.extend(item)
    return False


def load_reference(text: str):
    """PyYAML's reading; raises yaml.YAMLError with marks."""
    return yaml.load(text, Loader=Loader)


def load(text: str):
    """The value PyYAML would return for `text`, computed fast when that is provably the same."""
    if yaml_rs is not None and not risky(text):  # then the parsed strings are checked too
        try:
            data = yaml_rs.loads(text, parse_datetime=False)
        except Exception:  # noqa: BLE001 - any refusal goes to the reference parser, which reports it
            data = None
        else:
            if type(data) is dict and not _strings_differ(data):
                return data
    return load_reference(text)
