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

# Where YAML 1.1 and 1.2 can read the same text differently, found in the text itself (a few regex
# scans are far cheaper than walking the parsed values). A match anywhere sends the text to PyYAML;
# a false alarm costs only speed.
_WORD = r"(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|=|<<)"
_RISKY = [re.compile(p) for p in (
    rf"(?m)(?:[:,\[{{]|^[ \t]*-)[ \t]*{_WORD}[ \t]*(?:$|[,\]}}#])",  # 1.1 booleans and merge keys as values
    rf"(?m)^[ \t]*(?:-[ \t]+)?{_WORD}[ \t]*:",  # ... and as keys
    # 010 is octal in 1.1 and 0o17 a number only in 1.2; 1e5 a string in 1.1; 1:20 base 60 in 1.1
    r"[\s:\-\[,{][-+]?(?:0[0-9_oObBxX]|[0-9.]+[eE][-+]?[0-9]|[0-9]+(?::[0-5]?[0-9])+)",
    r"[0-9]_[0-9]",  # 1_000: a number in 1.1
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}",  # dates
)]


def risky(text: str) -> bool:
    """Could YAML 1.1 and 1.2 read this text differently?"""
    return "!" in text or any(pattern.search(text) for pattern in _RISKY)


def load_reference(text: str):
    """PyYAML's reading; raises yaml.YAMLError with marks."""
    return yaml.load(text, Loader=Loader)


def load(text: str):
    """The value PyYAML would return for `text`, computed fast when that is provably the same."""
    if yaml_rs is not None and not risky(text):
        try:
            data = yaml_rs.loads(text, parse_datetime=False)
        except Exception:  # noqa: BLE001 - any refusal goes to the reference parser, which reports it
            data = None
        else:
            if type(data) is dict:
                return data
    return load_reference(text)
