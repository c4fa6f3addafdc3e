"""A figure's genes and chemicals as a PathVisio pathway (site_gen/gpml.py)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from site_gen.gpml import NAMESPACE, PER_COLUMN, render_gpml
from site_gen.model import ChemicalMention, Figure, GeneMention

NS = {"g": NAMESPACE}


def figure(**fields) -> Figure:
    values = dict(figid="PMC1__F1", src_path="f.md", title="A & B <pathway>", organisms=("Homo sapiens",))
    values.update(fields)
    return Figure(**values)


def test_each_distinct_gene_and_chemical_is_a_datanode_with_its_id_and_ocr_word():
    genes = (GeneMention("ERK2", "ERK2", "MAPK1", "5594", "hgnc"),
             GeneMention("ERK", "ERK", "MAPK1", "5594", "hgnc"),  # the same gene again
             GeneMention("a&b", "A&B", "A<B", "7", "hgnc"),
             GeneMention("x", None, None, None, None))  # no gene ID: no node
    chemicals = (ChemicalMention("ATP", "Adenosine triphosphate", "D000255", "CHEBI:15422", "mesh"),
                 ChemicalMention("cAMP", "Cyclic AMP", "D000242", None, "mesh"))
    root = ET.fromstring(render_gpml(figure(genes=genes, chemicals=chemicals), "https://example.org/figures/PMC1__F1.html"))
    assert root.tag == f"{{{NAMESPACE}}}Pathway" and root.get("Name") == "A & B <pathway>"
    assert root.get("Organism") == "Homo sapiens"
    nodes = root.findall("g:DataNode", NS)
    found = [(n.get("TextLabel"), n.get("Type"), n.find("g:Xref", NS).get("Database"), n.find("g:Xref", NS).get("ID"),
              n.find("g:Comment", NS).text) for n in nodes]
    assert found == [("MAPK1", "GeneProduct", "Entrez Gene", "5594", "OCR lexicon match: ERK2"),
                     ("A<B", "GeneProduct", "Entrez Gene", "7", "OCR lexicon match: A&B"),
                     ("Adenosine triphosphate", "Metabolite", "ChEBI", "15422", "OCR lexicon match: ATP"),
                     ("Cyclic AMP", "Metabolite", "MeSH", "D000242", "OCR lexicon match: cAMP")]
    assert len({n.get("GraphId") for n in nodes}) == len(nodes)
    assert root.find("g:InfoBox", NS) is not None


def test_nodes_are_laid_out_in_columns_of_ten():
    genes = tuple(GeneMention(f"G{n}", None, f"G{n}", str(n), "hgnc") for n in range(25))
    root = ET.fromstring(render_gpml(figure(genes=genes), "u"))
    places = [(float(g.get("CenterX")), float(g.get("CenterY")))
              for g in (n.find("g:Graphics", NS) for n in root.findall("g:DataNode", NS))]
    assert len(set(places)) == 25 and len({x for x, _ in places}) == -(-25 // PER_COLUMN)
    assert all(100 <= y < 100 + PER_COLUMN * 25 for _, y in places)
