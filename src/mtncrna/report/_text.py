"""Plain-language sentences for the report's conclusions (what was tested, found, reported)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

import anndata as ad
import pandas as pd

FRACTION_WORDS = {"mito": "mitochondrial", "cytosol": "cytosolic", "nucleus": "nuclear"}
LIB_WORDS = {"small": "small RNAs", "long": "long RNAs"}


def lib_noun(lib: str) -> str:
    return LIB_WORDS.get(lib, f"{lib} features")


def short(feature: str) -> str:
    """``hsa-miR-2392`` -> ``miR-2392`` (names stay as the data has them otherwise)."""
    return str(feature).removeprefix("hsa-")


def join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def where(subset: Mapping[str, Any] | None) -> str:
    """``{"fraction": "mito"}`` -> ``in the mitochondrial fraction``."""
    sub = dict(subset or {})
    if not sub:
        return "over all samples"
    parts = []
    for k, v in sub.items():
        if k == "fraction":
            parts.append(f"the {FRACTION_WORDS.get(str(v), str(v))} fraction")
        else:
            parts.append(f"{k} {v}")
    return "in " + " and ".join(parts)


def contrast_words(params: Mapping[str, Any], contrast: str) -> tuple[str, str, str]:
    """(factor, numerator, denominator) of a DE contrast, from its params or its name."""
    for spec in list(params.get("contrasts", [])):
        f, num, den = str(spec).split("|")
        if contrast == f"{f}_{num}_vs_{den}":
            return f, num, den
    m = re.match(r"(.+?)_(.+)_vs_(.+)", contrast)
    return (m.group(1), m.group(2), m.group(3)) if m else ("", contrast, "")


def cells(factor: str, level: str) -> str:
    cell_state = factor == "condition" or level.lower() in ("resistant", "parental", "sensitive")
    return f"{level} cells" if cell_state else f"{factor} {level}"


def pubmed_url(citation: str, feature: str = "") -> str:
    """A PubMed search for a citation like ``Fan et al., 2019`` (+ the RNA, to find the paper).

    The bundled reference records author and year, not a DOI or PMID, so the link is a search.
    """
    first = re.split(r"[;,]", citation)[0]
    author = re.sub(r"\bet al\.?|\band\b.*", "", first).strip()
    year = re.search(r"(19|20)\d\d", citation)
    terms = [f"{author}[au]"] if author else []
    if year:
        terms.append(f"{year.group(0)}[dp]")
    if feature:
        terms.append(short(feature))
    return "https://pubmed.ncbi.nlm.nih.gov/?term=" + quote_plus(" ".join(terms))


def study_sentence(libraries: Mapping[str, ad.AnnData]) -> str:
    from ..pl import DESIGN_FACTORS

    parts = []
    obs = None
    for lib, a in libraries.items():
        parts.append(f"{a.n_obs} {lib}-RNA libraries ({a.n_vars} features)")
        obs = a.obs if obs is None else obs
    if obs is None:
        return ""
    factors = []
    for f in DESIGN_FACTORS:
        if f in obs.columns and f != "drug":
            levels = sorted(obs[f].dropna().astype(str).unique())
            if len(levels) > 1:
                factors.append(f"{f} ({', '.join(levels)})")
    drug = ""
    if "drug" in obs.columns and obs["drug"].nunique() == 1:
        drug = f"; drug: {obs['drug'].iloc[0]}"
    design = f" across {join_words(factors)}" if factors else ""
    return f"The study has {join_words(parts)}{design}{drug}."


def qc_sentence(lib: str, a: ad.AnnData) -> str:
    obs = a.obs
    out = []
    pur = obs["purity"].dropna() if "purity" in obs else pd.Series(dtype=float)
    if len(pur):
        out.append(
            f"the mitochondrial preparations are {100 * pur.median():.0f} % pure "
            f"(median of {len(pur)}; {100 * pur.min():.0f}–{100 * pur.max():.0f} %)"
        )
    n_out = int(obs["outlier"].sum()) if "outlier" in obs else 0
    if n_out:
        names = ", ".join(obs.index[obs["outlier"].astype(bool)].astype(str))
        out.append(f"{n_out} sample(s) look like outliers ({names})")
    else:
        out.append("no sample looks like an outlier")
    text = "; ".join(out) + "."
    return text[0].upper() + text[1:]


def enrichment_sentence(lib: str, a: ad.AnnData, e: pd.DataFrame) -> str:
    p = dict(a.uns["enrichment"].get("params", {}))
    enr = e[e["mito_enriched"].astype(bool)]
    known = enr[enr["known_mtncrna"].astype(bool)] if "known_mtncrna" in enr else enr.iloc[:0]
    top = ", ".join(short(f) for f in known.sort_values("padj")["feature_id"].head(4))
    mito = FRACTION_WORDS.get(str(p.get("mito", "mito")), "mitochondrial")
    return (
        f"{len(enr)} {lib_noun(lib)} are enriched in the {mito} fraction above the "
        f"cytosolic contamination (DESeq2, {p.get('design', '')}, padj < {p.get('alpha', '')}, "
        f"log2 fold > {p.get('lfc_threshold', '')}); {len(known)} of them are known "
        f"mtncRNAs{f' ({top}, ...)' if top else ''}."
    )


def de_sentence(lib: str, params: Mapping[str, Any], contrast: str, d: pd.DataFrame) -> str:
    alpha = float(params.get("alpha", 0.1))
    sig = d[d["padj"] < alpha]
    up = sig[sig["log2FoldChange"] > 0].sort_values("padj")
    down = sig[sig["log2FoldChange"] < 0].sort_values("padj")
    f, num, den = contrast_words(params, contrast)
    w = where(params.get("subset"))
    w = w[0].upper() + w[1:]
    head = (
        f"{w}, {len(down)} {lib_noun(lib)} are lower and {len(up)} higher in "
        f"{cells(f, num)} than in {cells(f, den)} (DESeq2, {params.get('design', '')}, "
        f"{params.get('n_samples', '?')} samples, padj < {alpha:g})"
    )
    tops = []
    if len(up):
        tops.append("up: " + ", ".join(short(x) for x in up["feature_id"].head(3)))
    if len(down):
        tops.append("down: " + ", ".join(short(x) for x in down["feature_id"].head(3)))
    return head + (f"; strongest {'; '.join(tops)}." if tops else ".")


def literature_items(lib: str, a: ad.AnnData, de_label: str) -> list[dict]:
    """Sentences on the literature verdicts, each with its citations as links."""
    c = pd.DataFrame(a.uns["concordance"]["table"])
    if c.empty:
        return []
    items = []
    matching = c[(c["verdict"] == "concordant") & (c["context"].isin(["matching", "any"]))]
    for (drug, cancer), g in matching.groupby(["drug", "cancer"], sort=False):
        moves = join_words(
            [f"{short(r.feature_id)} {r.expected_direction}" for r in g.itertuples()]
        )
        items.append(
            {
                "text": (
                    f"{moves} in resistant cells ({lib_noun(lib)}, {de_label}), as reported in "
                    f"{drug}-resistant {cancer}"
                ),
                "cites": [
                    {"label": r.citation, "url": pubmed_url(r.citation, r.feature_id)}
                    for r in g.itertuples()
                ],
            }
        )
    other = c[(c["verdict"] == "concordant") & (c["context"] == "other")]
    if len(other):
        items.append(
            {
                "text": (
                    f"{len(other)} more {lib_noun(lib) if len(other) > 1 else lib_noun(lib)[:-1]} "
                    f"{'move' if len(other) > 1 else 'moves'} as reported for other drugs or "
                    "cancers: "
                    + ", ".join(
                        f"{short(r.feature_id)} {r.expected_direction} ({r.drug})"
                        for r in other.itertuples()
                    )
                ),
                "cites": [
                    {"label": r.citation, "url": pubmed_url(r.citation, r.feature_id)}
                    for r in other.itertuples()
                ],
            }
        )
    disc = c[c["verdict"] == "discordant"]
    if len(disc):
        items.append(
            {
                "text": (
                    f"{len(disc)} {lib_noun(lib)} move against the literature: "
                    + ", ".join(
                        f"{short(r.feature_id)} (reported {r.expected_direction}, {r.drug})"
                        for r in disc.itertuples()
                    )
                ),
                "cites": [
                    {"label": r.citation, "url": pubmed_url(r.citation, r.feature_id)}
                    for r in disc.itertuples()
                ],
            }
        )
    ns = c[c["verdict"] == "not_significant"]
    if len(ns):
        items.append(
            {
                "text": (
                    f"{len(ns)} reported {lib_noun(lib)} show no significant change "
                    f"({', '.join(short(x) for x in ns['feature_id'].head(6))}"
                    f"{', ...' if len(ns) > 6 else ''})"
                ),
                "cites": [],
            }
        )
    return items
