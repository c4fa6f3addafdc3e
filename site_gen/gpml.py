"""A figure's genes and chemicals as a PathVisio pathway (GPML 2013a), made at build time.

PathVisio opens the file as it is, or takes its DataNodes pasted into a pathway being drawn (the
reference site builds the same nodes in the browser for its "Copy DataNodes" button). Each distinct
gene is a GeneProduct with its NCBI Gene ID, each distinct chemical a Metabolite with its ChEBI ID
(else its MeSH ID), each with a comment naming the OCR word it was matched from; they are laid out
in columns of ten, as the reference lays them out.
"""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

from site_gen.model import Figure

NAMESPACE = "http://pathvisio.org/GPML/2013a"
PER_COLUMN = 10
WIDTH, HEIGHT, GAP_X = 90, 25, 100


def _nodes(fig: Figure) -> list[tuple[str, str, str, str, str]]:
    """(label, type, database, ID, OCR word) of each distinct gene, then each distinct chemical."""
    out, seen = [], set()
    for m in fig.genes:
        if m.entrez and ("gene", m.entrez) not in seen:
            seen.add(("gene", m.entrez))
            out.append((m.symbol or m.word, "GeneProduct", "Entrez Gene", m.entrez, m.match or m.word))
    for m in fig.chemicals:
        database, ident = ("ChEBI", m.chebi.removeprefix("CHEBI:").removeprefix("chebi:")) if m.chebi else ("MeSH", m.mesh)
        if ident and (database, ident) not in seen:
            seen.add((database, ident))
            out.append((m.name or m.word, "Metabolite", database, ident, m.word))
    return out


def render_gpml(fig: Figure, page_url: str) -> str:
    """The GPML text of a figure's genes and chemicals."""
    nodes = _nodes(fig)
    organism = fig.organisms[0] if fig.organisms else ""
    columns = max(1, -(-len(nodes) // PER_COLUMN))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<Pathway xmlns="{NAMESPACE}" Name={quoteattr(fig.title or fig.figid)} Data-Source="PFOCR"'
             + (f" Organism={quoteattr(organism)}" if organism else "") + ">",
             f"  <Comment Source=\"PFOCR\">{_text(f'Genes and chemicals found by OCR in {page_url}')}</Comment>",
             f'  <Graphics BoardWidth="{100 + columns * GAP_X}" BoardHeight="{100 + PER_COLUMN * HEIGHT}" />']
    for n, (label, kind, database, ident, word) in enumerate(nodes):
        x, y = 100 + (n // PER_COLUMN) * GAP_X, 100 + (n % PER_COLUMN) * HEIGHT
        colour = ' Color="0000ff"' if kind == "Metabolite" else ""
        lines += [f"  <DataNode TextLabel={quoteattr(label)} GraphId=\"n{n + 1000}\" Type=\"{kind}\">",
                  f"    <Comment>{_text(f'OCR lexicon match: {word}')}</Comment>",
                  f'    <Graphics CenterX="{x}.0" CenterY="{y}.0" Width="{WIDTH}.0" Height="{HEIGHT}.0" ZOrder="32768" '
                  f'FontSize="12" Valign="Middle"{colour} />',
                  f"    <Xref Database={quoteattr(database)} ID={quoteattr(ident)} />",
                  "  </DataNode>"]
    lines += ['  <InfoBox CenterX="0.0" CenterY="0.0" />', "</Pathway>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
