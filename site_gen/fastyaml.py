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

# Where YAML 1.1 and 1.2 can read the same text differently. Both checks are cheap:
# 1. in the parsed values: strings (values or keys) YAML 1.1 would have read as something else
#    (yes/no/on/off, 1:20 in base 60, 1_000, dates, merge keys). A quoted 'On' also fails this check,
#    which only costs a slower parse.
# 2. when the parsed values hold numbers, in the text: a value the fast parser may have read as a
#    number, unless it is a plain decimal both read alike (2020, -3, 0.93, 5., .5). 010 is octal in 1.1,
#    0o17 and 1e5 are numbers only in 1.2, and the fast parser also reads _1, +.5 and .InF as numbers,
#    which are text to PyYAML. Explicit tags (`!!str`) are always left to PyYAML.
# Anything flagged goes to PyYAML.
_BOOL_WORDS = frozenset("yes Yes YES no No NO on On ON off Off OFF y Y n N true True TRUE false False FALSE "
                        "null Null NULL ~ = <<".split())
_NUMBER_START = frozenset("0123456789+-.")
_YAML11_OTHER = re.compile(r"""(?x)
    [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?  # base 60
  | [-+]?(?:[0-9][0-9_]*_[0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?  # underscores
  | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*  # dates and times
""")  # (a string of a number both versions read as a number must have been quoted: no difference)

# A value of two or more characters that starts like a number (one character is a digit: the same to both)
_NUMBER_LIKE = re.compile(r"[-+0-9._](?<=[\s\[,{?:][-+0-9._])[0-9a-zA-Z_.+-]")
_VALUE_END = r"[ \t]*(?:$|[\r#,\]}:])"
_RISKY_NUMBER = re.compile(rf"""(?mx)
    (?!(?:[-+]?(?:0|[1-9][0-9]{{0,17}}|[0-9]{{1,18}}\.[0-9]*)|\.[0-9]+){_VALUE_END})  # not a plain decimal
    [-+]?(?:[0-9._]+(?:[eE][-+]?[0-9._]*)?|0[xXoObB][0-9a-fA-F_]*|\.(?i:inf|nan))  # what may be a number
    {_VALUE_END}  # ... running to the value's end (a UUID 0000-… is no number)
""")
_DIFFERS, _NUMBERS, _CLEAN = 2, 1, 0


def risky_numbers(text: str) -> bool:
    """Could the text hold a number YAML 1.1 and 1.2 read differently?"""
    text = "\n" + text  # every value has a character before it
    return any(_RISKY_NUMBER.match(text, m.start()) for m in _NUMBER_LIKE.finditer(text))


def _values(value) -> int:
    """_DIFFERS if a string (a value or a key) would be read as something else by YAML 1.1 or a key is
    no string, else _NUMBERS if the value holds numbers, else _CLEAN."""
    found = _CLEAN
    stack = [value]
    bools, starts, other = _BOOL_WORDS, _NUMBER_START, _YAML11_OTHER.fullmatch
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            if len(item) <= 5 and item in bools or item and item[0] in starts and other(item):
                return _DIFFERS
        elif kind is dict:
            for key, sub in item.items():
                if type(key) is not str or len(key) <= 5 and key in bools or key and key[0] in starts and other(key):
                    return _DIFFERS
                stack.append(sub)
        elif kind is list:
            stack.extend(item)
        elif kind is int or kind is float:
            found = _NUMBERS
    return found


def load_reference(text: str):
    """PyYAML's reading; raises yaml.YAMLError with marks."""
    return yaml.load(text, Loader=Loader)


def fast_result(text: str):
    """The fast parser's reading of `text` when it is provably PyYAML's, else None."""
    if yaml_rs is None or "!" in text:
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # noqa: BLE001 - any refusal goes to the reference parser, which reports it
        return None
    if type(data) is not dict:
        return None
    found = _values(data)
    if found == _DIFFERS or found == _NUMBERS and risky_numbers(text):
        return None
    return data


def load(text: str):
    """The value PyYAML would return for `text`, computed fast when that is provably the same."""
    data = fast_result(text)
    return load_reference(text) if data is None else data
