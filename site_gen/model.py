"""Stage 2, model: RawRecord → Figure. The one place that knows the records' YAML key names."""
from __future__ import annotations

import contextlib
import logging
import operator
import re
import sys
import threading
from dataclasses import dataclass, fields
from typing import NamedTuple

from site_gen.errors import Problem
from site_gen.load import MENTION_KINDS, RawRecord, find_field_line

log = logging.getLogger(__name__)

# R's missing values, written out as text by the pipeline that produced the records.
NA_TEXT = ".na.character"
NA_CELL = "NA"

FIGID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~-]*$")
PMCID_RE = re.compile(r"^PMC\d+$")
YEAR_RE = re.compile(r"^\d{4}$")
ENTREZ_RE = re.compile(r"^\d+$")
MESH_RE = re.compile(r"^[A-Z]\d{6,9}$")
DOID_RE = re.compile(r"^DOID:\d+$")
WPID_RE = re.compile(r"^WP\d+$")
NDEX_RE = re.compile(r"^[0-9a-fA-F-]{8,64}$")
SAFE_PATH_RE = re.compile(r"^(/[A-Za-z0-9._+~-]+)+/?$")


# Mentions are named tuples: millions of them cross between processes, and tuples pickle fast.
class GeneMention(NamedTuple):
    word: str
    match: str | None
    symbol: str | None
    entrez: str | None
    source: str | None
    organism: str | None = None  # the organism an NCBI Gene ID belongs to (its Latin name)
    taxon: str | None = None  # its NCBI Taxonomy ID
    group: str | None = None  # its group, as the gene tables name it (Primates, Rodents, Invertebrates, ...)


# The older records' genes come from the human HGNC lexicon (`hgnc_symbol`): they are human genes.
HGNC_ORGANISM = ("Homo sapiens", "9606", "Primates")


class ChemicalMention(NamedTuple):
    word: str
    name: str | None
    mesh: str | None
    chebi: str | None
    source: str | None


class DiseaseMention(NamedTuple):
    word: str
    name: str | None
    mesh: str | None
    doid: str | None
    source: str | None

    @property
    def key(self) -> str | None:
        return self.mesh or self.doid


# Tuples already made, by type: the same mention row (a gene found as the same word) recurs in many
# figures, and is then held once. Emptied after each parse (release_pools) and when it grows too big.
_POOLS: dict[type, dict] = {}
POOL_LIMIT = 1 << 22


def _pool(cls: type) -> dict:
    pool = _POOLS.get(cls)
    if pool is None or len(pool) >= POOL_LIMIT:
        pool = _POOLS[cls] = {}
    return pool


def _pooled(mention: tuple) -> tuple:
    """The mention (or tuple of names) with its strings interned, and the same tuple if one equal to it
    was made before: a gene symbol or identifier is held once, not once per figure that mentions it
    (a quarter of the model's memory), and pickles once per cache bucket."""
    pool = _pool(type(mention))
    held = pool.get(mention)  # most rows were seen before: then nothing needs interning
    if held is not None:
        return held
    intern = sys.intern
    pooled = tuple.__new__(type(mention), [intern(v) if type(v) is str else v for v in mention])
    return pool.setdefault(pooled, pooled)


def release_pools() -> None:
    """Forget the tuples made so far (those in figures stay shared)."""
    _POOLS.clear()


def _interned(value: str | None) -> str | None:
    return sys.intern(value) if type(value) is str else value


def _as(cls, rows: tuple, pool: bool = True) -> tuple:
    """Mentions of type `cls` from plain tuples (the model store's form), pooled as parsed ones are:
    figures read from the store one by one then share their strings as figures parsed together do
    (unless read for a moment: `transient`)."""
    new = tuple.__new__
    if not pool:
        return tuple(new(cls, row) for row in rows)
    return tuple(_pooled(new(cls, row)) for row in rows)


_reading = threading.local()  # .transient: this thread's figures are read for a moment


@contextlib.contextmanager
def transient():
    """Figures this thread reads from the store meanwhile are held for a moment (a render worker's,
    let go of once their pages are written): they are not pooled, which would take twice the time to
    read them and keep every row read in the pools."""
    was = getattr(_reading, "transient", False)
    _reading.transient = True
    try:
        yield
    finally:
        _reading.transient = was


def _rebuild_figure(values: tuple, genes: tuple, chemicals: tuple, diseases: tuple) -> "Figure":
    fig = object.__new__(Figure)
    for put, value in zip(_PUT_FIELD, values):
        put(fig, value)
    pool = not getattr(_reading, "transient", False)
    if pool:
        for put, get in _POOLED_FIELDS:
            put(fig, _pooled(get(fig)))
    _PUT_MENTIONS[0](fig, _as(GeneMention, genes, pool))
    _PUT_MENTIONS[1](fig, _as(ChemicalMention, chemicals, pool))
    _PUT_MENTIONS[2](fig, _as(DiseaseMention, diseases, pool))
    return fig


@dataclass(frozen=True, slots=True)  # slots: 100,000 figures, each without a dict of 28 fields
class Figure:
    figid: str
    src_path: str
    title: str
    caption: str | None = None
    pmcid: str | None = None
    figlink: str | None = None
    filename: str | None = None
    number: str | None = None
    figtype: str | None = None
    papertitle: str | None = None
    reftext: str | None = None
    year: str | None = None
    doi: str | None = None
    journal: str | None = None
    publisher: str | None = None
    score: float | None = None
    ndex: str | None = None
    wpid: str | None = None
    keywords: tuple[str, ...] = ()
    organisms: tuple[str, ...] = ()
    organisms_ner: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # same-site paths that redirect to this figure
    genes: tuple[GeneMention, ...] = ()
    chemicals: tuple[ChemicalMention, ...] = ()
    diseases: tuple[DiseaseMention, ...] = ()
    mention_keywords: tuple[str, ...] = ()  # schema-jsonld keywords: the only mention list of some figures
    body: str = ""

    def __reduce__(self):
        """Pickle as plain tuples (about 5 times faster to load than dataclass state)."""
        return (_rebuild_figure, (_get_fields(self), tuple(map(tuple, self.genes)),
                                  tuple(map(tuple, self.chemicals)), tuple(map(tuple, self.diseases))))

    @property
    def all_organisms(self) -> tuple[str, ...]:
        """Curated organisms first, then those only found by text mining."""
        return self.organisms + tuple(o for o in self.organisms_ner if o not in self.organisms)

    @property
    def sort_key(self) -> tuple:
        """Newest first; undated figures last; figid breaks ties so order never depends on input order."""
        return (-(int(self.year) if self.year else 0), self.figid)

    @classmethod
    def from_raw(cls, raw: RawRecord, problems: list[Problem]) -> Figure | None:
        f = _Fields(raw, problems)
        figid = f.figid()
        if figid is None:
            return None
        title = f.text("figtitle") or f.text("papertitle") or figid
        aliases = []
        for key in ("figid_alias", "redirect_from"):
            for value in f.text_list(key):
                path = value if key == "redirect_from" else f"/figures/{value}"
                if f.check_alias(key, path) and path not in aliases:
                    aliases.append(path)
        jsonld = f.mapping("schema-jsonld")
        return cls(
            figid=figid,
            src_path=raw.src_path,
            title=title,
            caption=f.text("caption"),
            pmcid=f.matching("pmcid", PMCID_RE),
            figlink=f.text("figlink"),
            filename=f.text("filename"),
            number=f.text("number"),
            figtype=_interned(f.text("figtype")),
            papertitle=f.text("papertitle"),
            reftext=f.text("reftext"),
            year=_interned(f.matching("year", YEAR_RE)),
            doi=f.text("doi"),
            journal=_interned(f.text("journal_title")),
            publisher=_interned(f.text("publisher_name")),
            score=f.number("pathway_score") if "pathway_score" in raw.data else f.number("automl_pathway"),
            ndex=f.matching("ndex", NDEX_RE),
            wpid=f.matching("wpid", WPID_RE),
            keywords=_pooled(f.keywords()),
            organisms=_pooled(f.organisms("organisms")),
            organisms_ner=_pooled(f.organisms("organisms_ner")),
            aliases=tuple(aliases),
            genes=f.genes(),
            chemicals=f.chemicals(),
            diseases=f.diseases(),
            mention_keywords=f.text_list(("schema-jsonld", "keywords"), jsonld.get("keywords")),
            body=strip_unprintable(raw.body).strip(),
        )


_FIGURE_FIELDS = tuple(f.name for f in fields(Figure) if f.name not in ("genes", "chemicals", "diseases"))
# Slot setters, which a frozen dataclass's __setattr__ does not stop, and a getter of all the fields.
_PUT_FIELD = tuple(getattr(Figure, name).__set__ for name in _FIGURE_FIELDS)
_PUT_MENTIONS = tuple(getattr(Figure, name).__set__ for name in ("genes", "chemicals", "diseases"))
_get_fields = operator.attrgetter(*_FIGURE_FIELDS)
# The tuples of names a figure shares with many others, pooled again when it is read back.
_POOLED_FIELDS = tuple((getattr(Figure, name).__set__, operator.attrgetter(name))
                       for name in ("keywords", "organisms", "organisms_ner"))

# What a page about the catalogue as a whole may read of every figure (lists, sitemaps, the name
# lookup, redirects, collections): the index kept between builds holds these; the rest, a figure's
# own text and mention tables, is read from the model store when a page of that figure needs it.
HEAVY_FIELDS = ("caption", "reftext", "genes", "chemicals", "diseases", "mention_keywords", "body")
LIGHT_FIELDS = tuple(f.name for f in fields(Figure) if f.name not in HEAVY_FIELDS)
light_fields = operator.attrgetter(*LIGHT_FIELDS)  # a figure's, in that order (figid first)
_PUT_LIGHT = tuple(getattr(Figure, name).__set__ for name in LIGHT_FIELDS)
_PUT_HEAVY = tuple(getattr(Figure, name).__set__ for name in HEAVY_FIELDS)
_DELETE_HEAVY = tuple(getattr(Figure, name).__delete__ for name in HEAVY_FIELDS)
_get_heavy = operator.attrgetter(*HEAVY_FIELDS)


class Facts(NamedTuple):
    """What the catalogue-wide files count of a figure's mention tables."""

    gene_rows: int
    chemical_rows: int
    disease_rows: int
    gene_ids: int  # rows with an NCBI Gene ID
    chemical_ids: int  # rows with a MeSH ID
    disease_ids: int  # rows with an identifier
    organisms: tuple[str, ...]  # of the genes, in order of first mention


def table_rows(fig: Figure) -> tuple[int, int, int]:
    """How many gene, chemical and disease rows a figure has (without reading a stored figure's tables)."""
    held = getattr(fig, "_facts", None)
    if held is not None:
        return held[:3]
    return len(fig.genes), len(fig.chemicals), len(fig.diseases)


def facts(fig: Figure) -> Facts:
    held = getattr(fig, "_facts", None)
    if held is not None:
        return held
    return Facts(len(fig.genes), len(fig.chemicals), len(fig.diseases),
                 sum(1 for m in fig.genes if m.entrez), sum(1 for m in fig.chemicals if m.mesh),
                 sum(1 for m in fig.diseases if m.key), tuple(dict.fromkeys(m.organism for m in fig.genes if m.organism)))


# Reads a figure in full from the model store by its source path (set by `cache.ModelStore.load_site`).
_figure_loader = None


def set_figure_loader(loader) -> None:
    global _figure_loader
    _figure_loader = loader


class StoredFigure(Figure):
    """A figure of the index kept between builds: its light fields and facts are held, its heavy fields
    are read from the model store the first time one is used (then held too)."""

    __slots__ = ("_facts",)

    def __getattr__(self, name: str):  # called only for a slot not yet filled
        if name not in HEAVY_FIELDS or _figure_loader is None:
            raise AttributeError(name)
        full = _figure_loader(self.src_path)
        self.take(full)
        return getattr(full, name)

    @property
    def loaded(self) -> bool:
        """Were the heavy fields read?"""
        try:
            object.__getattribute__(self, "genes")
        except AttributeError:
            return False
        return True

    def take(self, full: Figure) -> None:
        """Hold the heavy fields of `full` (this figure, as the store has it)."""
        for put, value in zip(_PUT_HEAVY, _get_heavy(full)):
            put(self, value)

    def drop(self) -> None:
        """Let go of the heavy fields (read from the store again when next used): what a long-lived
        model does once it has rendered what needed them, so that its memory stays that of the index."""
        for delete in _DELETE_HEAVY:
            try:
                delete(self)
            except AttributeError:
                pass  # not read

    def __reduce__(self):
        return _stored_figure, (light_fields(self), facts(self))


def _stored_figure(light: tuple, held: Facts) -> StoredFigure:
    fig = object.__new__(StoredFigure)
    for put, value in zip(_PUT_LIGHT, light):
        put(fig, value)
    _PUT_FACTS(fig, held)
    return fig


_PUT_FACTS = StoredFigure._facts.__set__


def holds_heavy(fig: Figure) -> bool:
    """Does a figure hold its heavy fields? One parsed from its record always does; one of the stored
    model only once they were read (`StoredFigure.loaded`)."""
    return type(fig) is not StoredFigure or fig.loaded


@contextlib.contextmanager
def read_for_a_moment(figures):
    """The heavy fields of these figures are used for a moment (a page, a document): those of the stored
    model that do not hold them read them from the store when used, without pooling them (`transient`),
    and let go of them after, so that the model keeps the memory of its index alone."""
    light = [fig for fig in figures if not holds_heavy(fig)]
    if not light:
        yield
        return
    try:
        with transient():
            yield
    finally:
        for fig in light:
            fig.drop()


def stored(fig: Figure) -> StoredFigure:
    """The figure as the index between builds keeps it: light fields and facts only."""
    return _stored_figure(light_fields(fig), facts(fig))


@dataclass(frozen=True)
class OrganismInfo:
    """Metadata of one organism, from a file in `_organisms/`."""

    latin: str
    common: str | None
    ncbi: str | None
    group: str | None
    image: str | None
    src_path: str

    @classmethod
    def from_raw(cls, raw: RawRecord, problems: list[Problem]) -> OrganismInfo | None:
        f = _Fields(raw, problems)
        latin = f.text("latin")
        if latin is None:
            f.report(("latin",), "required: the organism's Latin name", skipped=True)
            return None
        image = f.text("image")
        if image and not image.startswith(("http://", "https://")):
            f.report(("image",), f"expected an http(s) URL, got {image!r}")
            image = None
        return cls(latin, f.text("common"), f.matching("ncbi", ENTREZ_RE), f.text("group"), image, raw.src_path)


# Code points HTML forbids (controls, noncharacters) and lone surrogates, which UTF-8 cannot encode.
_NOT_IN_HTML = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17)) + "]")


def strip_unprintable(text: str) -> str:
    if text.isascii() and text.isprintable():  # the common case, checked in C
        return text
    return _NOT_IN_HTML.sub("", text)


def clean_text(value: str) -> str | None:
    """Whitespace collapsed, characters HTML forbids dropped; R's missing-value text and '' become None."""
    text = " ".join(strip_unprintable(value).split())
    return None if text in ("", NA_TEXT) else text


# The sidecar table columns a mention is made from (the others are not kept).
TABLE_FIELDS = {
    "genes": frozenset({"word", "match", "ncbigene_symbol", "ncbigene_id", "source", "organism_name", "organism_id",
                        "organism_group"}),
    "chemicals": frozenset({"word", "match", "mesh", "chebi", "name"}),
    # two layouts: the newer `word mesh match name doid`, and the inline records' `word source identifier`
    "diseases": frozenset({"word", "match", "mesh", "doid", "name", "source", "identifier"}),
}


def _clean_cell(value: str) -> str | None:
    """A sidecar table cell, cleaned like front matter text; `NA` is missing there too."""
    if value.isascii() and value.isprintable() and " " not in value:  # the common case, checked in C
        return None if value in ("", NA_CELL, NA_TEXT) else value
    text = clean_text(value)
    return None if text == NA_CELL else text


def _describe(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"a boolean ({value}); quote it to keep it as text"
    return type(value).__name__


def _field_name(path: tuple) -> str:
    name = ""
    for step in path:
        name += f"[{step}]" if isinstance(step, int) else (f".{step}" if name else str(step))
    return name


class _Fields:
    """Typed reads of one record's fields; every bad value is reported with its line and dropped."""

    def __init__(self, raw: RawRecord, problems: list[Problem]):
        self.raw = raw
        self.data = raw.data
        self.problems = problems

    def report(self, path: tuple, message: str, skipped: bool = False, line: int | None = None) -> None:
        if line is None:
            line = find_field_line(self.raw.src_path, path)
        self.problems.append(Problem(self.raw.src_path, line, _field_name(path), message, skipped))

    def _scalar(self, path: tuple, value) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            return clean_text(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        self.report(path, f"expected text, got {_describe(value)}")
        return None

    def text(self, key: str) -> str | None:
        return self._scalar((key,), self.data.get(key))

    def matching(self, key: str, pattern: re.Pattern) -> str | None:
        value = self.text(key)
        if value is not None and not pattern.match(value):
            self.report((key,), f"unexpected value {value!r}; left out")
            return None
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None or value == NA_TEXT or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            self.report((key,), f"expected a number, got {_describe(value) if not isinstance(value, str) else repr(value)}")
            return None

    def mapping(self, key: str) -> dict:
        value = self.data.get(key)
        if value is None or isinstance(value, dict):
            return value or {}
        self.report((key,), f"expected a mapping, got {_describe(value)}")
        return {}

    def text_list(self, key, value=...) -> tuple[str, ...]:
        """A scalar-or-list field as a tuple of texts, missing values dropped, order kept, no repeats."""
        path = key if isinstance(key, tuple) else (key,)
        if value is ...:
            value = self.data.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if isinstance(value, dict):
            self.report(path, f"expected text or a list of texts, got {_describe(value)}")
            return ()
        out: list[str] = []
        for i, item in enumerate(items):
            text = self._scalar(path + ((i,) if isinstance(value, list) else ()), item)
            if text is not None and text not in out:
                out.append(text)
        return tuple(out)

    def figid(self) -> str | None:
        value = self.data.get("figid")
        if value is None or value == "":
            self.report(("figid",), "required: every record needs a figid", skipped=True, line=1 if "figid" not in self.data else None)
            return None
        if not isinstance(value, str):
            self.report(("figid",), f"expected text, got {_describe(value)}", skipped=True)
            return None
        figid = value.strip()
        if not FIGID_RE.match(figid) or ".." in figid:
            self.report(
                ("figid",),
                f"unsafe figid {figid!r}: only letters, digits and . _ - + ~ are allowed, and no '..'",
                skipped=True,
            )
            return None
        return figid

    def check_alias(self, key: str, path: str) -> bool:
        if not SAFE_PATH_RE.match(path) or ".." in path or not path.startswith("/figures/"):
            self.report((key,), f"redirect {path!r} is not a same-site path under /figures/; ignored")
            return False
        return True

    def keywords(self) -> tuple[str, ...]:
        value = self.data.get("keywords")
        if isinstance(value, str):
            return tuple(k for part in value.split("|") if (k := clean_text(part)))
        return self.text_list("keywords")

    def organisms(self, key: str) -> tuple[str, ...]:
        return tuple(o for o in self.text_list(key) if o != NA_CELL)

    def _mentions(self, kind: str, make) -> tuple:
        """The distinct mentions of one kind, each made by `make(where, row)` from a row that has a word:
        from the sidecar TSV if there is one, else from the front matter."""
        out: dict = {}
        if kind in self.raw.tables:
            shown, table = self.raw.tables[kind]
            fields = TABLE_FIELDS[kind]
            columns = [(name, i) for i, name in enumerate(table.header) if name in fields]
            word_column = dict(columns).get("word")
            for line, text in table.rows:
                cells = text.split("\t")
                row = {name: _clean_cell(cells[i]) for name, i in columns}
                if row.get("word") is None and row.get("ncbigene_id"):
                    # a row with a gene ID is a mention whatever its word says: the fly gene `na` is
                    # found as the word NA, which is R's missing value elsewhere
                    row["word"] = clean_text(cells[word_column]) or row.get("match") or row.get("ncbigene_symbol")
                if row.get("word") is None:
                    self._report_row((shown, line), "word", "missing; row ignored")
                else:
                    out.setdefault(_pooled(make((shown, line), row)), None)
            return tuple(out)
        value = self.data.get(kind)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.report((kind,), f"expected a list of mentions, got {_describe(value)}")
            return ()
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.report((kind, i), f"expected a mapping with a word, got {_describe(item)}")
                continue
            row = {k: self._scalar((kind, i, k), v) for k, v in item.items()}
            if row.get("word") is None:
                self._report_row((kind, i), "word", "missing; row ignored")
            else:
                out.setdefault(_pooled(make((kind, i), row)), None)
        return tuple(out)

    def _report_row(self, where: tuple, field: str, message: str) -> None:
        if where[0] in MENTION_KINDS:
            self.report(where + (field,), message)
        else:  # a TSV row: (display path, line)
            self.problems.append(Problem(where[0], where[1], field, message))

    def _checked(self, where, row: dict, key: str, pattern: re.Pattern, strip: str = "") -> str | None:
        value = row.get(key)
        if value is None:
            return None
        value = value.removeprefix(strip) if strip else value
        if not pattern.match(value):
            self._report_row(where, key, f"unexpected identifier {value!r}; shown without a link")
            return None
        return value

    def genes(self) -> tuple[GeneMention, ...]:
        return self._mentions("genes", self._gene)

    def chemicals(self) -> tuple[ChemicalMention, ...]:
        return self._mentions("chemicals", self._chemical)

    def diseases(self) -> tuple[DiseaseMention, ...]:
        return self._mentions("diseases", self._disease)

    def _gene(self, where: tuple, row: dict) -> GeneMention:
        inline = where[0] == "genes"
        if inline:
            organism, taxon, group = HGNC_ORGANISM
        else:
            organism, group = row.get("organism_name"), row.get("organism_group")
            taxon = self._checked(where, row, "organism_id", ENTREZ_RE)
        return GeneMention(
            word=row["word"],
            match=row.get("symbol") if inline else row.get("match"),
            symbol=row.get("hgnc_symbol") if inline else row.get("ncbigene_symbol"),
            entrez=self._checked(where, row, "entrez" if inline else "ncbigene_id", ENTREZ_RE),
            source=row.get("source"),
            organism=organism,
            taxon=taxon,
            group=group,
        )

    def _chemical(self, where: tuple, row: dict) -> ChemicalMention:
        if where[0] == "chemicals":
            is_mesh = (row.get("source") or "").upper() == "MESH"
            mesh = self._checked(where, row, "identifier", MESH_RE) if is_mesh else None
            return ChemicalMention(row["word"], None, mesh, None, row.get("source"))
        mesh = self._checked(where, row, "mesh", MESH_RE, strip="mesh:")
        chebi = self._checked(where, row, "chebi", ENTREZ_RE, strip="chebi:")
        return ChemicalMention(row["word"], row.get("name") or row.get("match"), mesh, chebi and f"CHEBI:{chebi}",
                               "MESH")

    def _disease(self, where: tuple, row: dict) -> DiseaseMention:
        if "mesh" not in row and "doid" not in row:  # the inline records' layout, also found in TSVs
            source = (row.get("source") or "").upper()
            ident = row.get("identifier")
            mesh = self._checked(where, row, "identifier", MESH_RE) if source == "MESH" else None
            doid = self._checked(where, row, "identifier", DOID_RE) if ident and source == "DOID" else None
            return DiseaseMention(row["word"], None, mesh, doid, row.get("source"))
        mesh = self._checked(where, row, "mesh", MESH_RE, strip="mesh:")
        if row.get("doid"):
            row["doid"] = "DOID:" + row["doid"].split(":")[-1]
        doid = self._checked(where, row, "doid", DOID_RE)
        return DiseaseMention(row["word"], row.get("name") or row.get("match"), mesh, doid, "MESH" if mesh else None)


def build_organism_infos(records: list[RawRecord], problems: list[Problem]) -> list[OrganismInfo]:
    return [o for raw in records if (o := OrganismInfo.from_raw(raw, problems)) is not None]
