"""Gather report sections from analysed AnnData objects and render one self-contained HTML file.

The file opens offline: no CDN, figures are embedded as PNG data URIs, every table's rows are
embedded as JSON and paged, sorted and searched by a few lines of inline JavaScript. The page
starts with the conclusions in plain sentences; each section has a stable id (``SECTION_IDS``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd

from .. import get, pl
from .._text import file_safe
from .._version import __version__
from . import _text as tx

SECTION_IDS = (
    "summary",
    "samples-qc",
    "enrichment",
    "differential-expression",
    "known-mtncrnas",
    "signatures",
    "integration",
    "methods",
)
#: ncRNAs with a count plot whenever the data have them (beside the literature hits).
HEADLINE_NCRNAS = ("hsa-miR-2392", "hsa-miR-5787", "SAMMSON", "RMRP", "MT-RNR2", "hsa-miR-181c-5p")
MAX_COUNT_PLOTS = 8
METHODS_TEXT = (
    "Counts were modelled with mtncrna's implementation of DESeq2 (median-of-ratios size "
    "factors, Cox-Reid gene-wise dispersions, parametric trend fitted on genes with dispersion "
    "> 1e-6, MAP shrinkage, Wald/LRT tests, Cook's distances, independent filtering), which "
    "reproduces R DESeq2 1.38 to ~1e-5 on real data. Mitochondrial enrichment uses size "
    "factors from features that are neither mtDNA-encoded nor known mtncRNAs, so that zero is "
    "the cytosolic contamination level. The QC PCA and the sample correlations use the blind "
    "variance-stabilising transformation."
)
CITATION_NOTE = (
    "Citation links open a PubMed search for the first author, the year and the RNA: the bundled "
    "reference records each study by author and year, not by DOI or PMID."
)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fig(fig: Any, caption: str, size: str = "") -> dict:
    from matplotlib.figure import Figure

    out = {"png": _png(fig), "caption": caption, "size": size}
    if isinstance(fig, Figure):
        fig.clear()
    return out


def _cell(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) or math.isinf(v) else float(f"{float(v):.6g}")
    return str(v)


def _table(
    df: pd.DataFrame,
    table_id: str,
    *,
    file: str | None = None,
    note: str = "",
    link_col: str | None = None,
    urls: list[str] | None = None,
) -> dict:
    """A table whose every row is embedded as JSON (paged, sorted, searched in the browser)."""
    payload = {
        "columns": [str(c) for c in df.columns],
        "rows": [[_cell(v) for v in rec] for rec in df.itertuples(index=False)],
        "linkCol": link_col,
        "urls": urls,
    }
    # "<" escaped so that no "</script>" or "<!--" inside a cell can end the script element
    data = json.dumps(payload, allow_nan=False, separators=(",", ":")).replace("<", "\\u003c")
    return {"id": table_id, "n": len(df), "json": data, "file": file, "note": note}


def _sig_first(df: pd.DataFrame, flag: str | None = None) -> pd.DataFrame:
    """Significant rows first: the flag column (True first), then padj, then p-value."""
    keys, asc = [], []
    d = df.copy()
    if flag and flag in d:
        d["_flag"] = ~d[flag].astype(bool)
        keys.append("_flag")
        asc.append(True)
    for c in ("padj", "pvalue"):
        if c in d:
            keys.append(c)
            asc.append(True)
    if keys:
        d = d.sort_values(keys, ascending=asc, na_position="last", kind="mergesort")
    return d.drop(columns=["_flag"], errors="ignore").reset_index(drop=True)


class _Files:
    """Names of the TSV files ``mtncrna run`` writes beside the report (linked when present)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def __call__(self, name: str) -> str | None:
        if self.folder is not None and (self.folder / name).is_file():
            return name
        return None


def _headline_features(a: ad.AnnData) -> list[str]:
    feats: list[str] = []
    if "concordance" in a.uns:
        c = pd.DataFrame(a.uns["concordance"]["table"])
        c = c[c["verdict"].isin(["concordant", "discordant"])]
        c = c.assign(_m=c["context"] != "matching").sort_values(["_m", "padj"])
        feats += [f for f in c["feature_id"].astype(str) if f]
    feats += [f for f in HEADLINE_NCRNAS if f in a.var_names]
    out = list(dict.fromkeys(f for f in feats if f in a.var_names))
    return out[:MAX_COUNT_PLOTS]


def _why_no_enrichment(a: ad.AnnData, fraction_key: str = "fraction") -> str:
    if fraction_key not in a.obs.columns:
        return f"the sample sheet has no '{fraction_key}' column"
    levels = sorted(a.obs[fraction_key].astype(str).unique())
    return (
        "it needs samples of both the mitochondrial and the cytosolic fraction; the sheet's "
        f"'{fraction_key}' has {', '.join(levels)}"
    )


def build_sections(
    libraries: Mapping[str, ad.AnnData],
    *,
    de_keys: tuple[str, ...] = (),
    pairs: pd.DataFrame | None = None,
    signature: pd.DataFrame | None = None,
    provenance: Mapping[str, Any] | None = None,
    notes: Mapping[str, str] | None = None,
    folder: Path | None = None,
    messages: Sequence[str] = (),
) -> list[dict]:
    """The report's sections (data only) from analysed libraries; each has a stable ``id``.

    ``notes``: section id -> why it was skipped (e.g. from ``mtncrna run``); ``folder``: where
    the report goes, to link the TSV files found there; ``messages``: what the reader must know
    about how the analysis differs from what was asked (a design term left out, a variable
    fitted as a covariate), shown at the top of the summary.
    """
    notes = dict(notes or {})
    files = _Files(folder)
    groups: dict[str, list[dict]] = {}
    study = tx.study_sentence(libraries)
    qc_blocks, enr_blocks, de_blocks, conc_blocks, sig_blocks = [], [], [], [], []
    skipped: dict[str, list[str]] = {k: [] for k in SECTION_IDS}
    notices = {"summary": [f"Note: {m}" for m in messages]}  # shown before the conclusions
    lit_methods: list[str] = []
    for lib, a in libraries.items():
        label = f"{lib}-RNA"
        noun = tx.lib_noun(lib)
        conclusions = groups.setdefault(noun[0].upper() + noun[1:], [])
        # --- QC
        if "total_counts" in a.obs.columns:
            q = get.qc_df(a)
            conclusions.append({"text": tx.qc_sentence(lib, a), "href": "#samples-qc"})
            figs = [_fig(pl.class_composition(a), f"{label}: reads per RNA class", "half")]
            if a.obs["contamination"].notna().any():
                figs.append(
                    _fig(pl.purity(a), f"{label}: cytosolic contamination of mito preps", "half")
                )
            if "X_pca" in a.obsm:
                figs.append(
                    _fig(
                        pl.pca(a),
                        f"{label}: PCA of the blind VST, marked by every design factor",
                        "full",
                    )
                )
            figs.append(
                _fig(
                    pl.correlation_heatmap(a),
                    f"{label}: sample correlation (Pearson, VST), clustered",
                    "half",
                )
            )
            heads = _headline_features(a)
            if heads:
                figs.append(
                    _fig(
                        pl.counts(a, heads),
                        f"{label}: normalized counts of the headline ncRNAs",
                        "half",
                    )
                )
            qc_blocks.append(
                {
                    "heading": f"{label}",
                    "figures": figs,
                    "table": _table(q, f"qc-{lib}", file=files(f"{lib}_qc.tsv")),
                }
            )
        else:
            skipped["samples-qc"].append(f"{label}: QC was not run (mtncrna.pp.qc).")
        # --- enrichment
        if "enrichment" in a.uns:
            e = _sig_first(get.enrichment_df(a), "mito_enriched")
            conclusions.append({"text": tx.enrichment_sentence(lib, a, e), "href": "#enrichment"})
            p = dict(a.uns["enrichment"].get("params", {}))
            enr_blocks.append(
                {
                    "heading": label,
                    "text": (
                        f"Mitochondrial over cytosolic fraction, {p.get('design', '')}; "
                        f"enriched: padj < {p.get('alpha', '')} and log2 fold > "
                        f"{p.get('lfc_threshold', '')}. Enriched features first."
                    ),
                    "figures": [_fig(pl.enrichment_plot(e), f"{label}: mito vs cytosol")],
                    "table": _table(
                        e,
                        f"enrichment-{lib}",
                        file=files(f"{lib}_enrichment_{p.get('mito')}_vs_{p.get('versus')}.tsv"),
                    ),
                }
            )
            for name in a.uns["enrichment"].get("interaction", {}):
                it = _sig_first(get.enrichment_df(a, interaction=name))
                n_i = int((it["padj"] < 0.05).sum())
                conclusions.append(
                    {
                        "text": (
                            f"{n_i} {noun} change their mitochondrial pool with "
                            f"{name.replace('_', ' = ')} beyond their total level "
                            "(fraction × condition interaction, padj < 0.05)."
                        ),
                        "href": "#enrichment",
                    }
                )
                enr_blocks.append(
                    {
                        "heading": f"{label}: fraction × {name.replace('_', ' = ')} interaction",
                        "details": True,
                        "table": _table(
                            it,
                            f"interaction-{lib}-{name}",
                            file=files(f"{lib}_interaction_{file_safe(name)}.tsv"),
                        ),
                    }
                )
        else:
            skipped["enrichment"].append(
                f"{label}: enrichment not run: {notes.get('enrichment') or _why_no_enrichment(a)}."
            )
        # --- DE
        n_de = 0
        for key in de_keys:
            if key not in a.uns:
                continue
            params = dict(a.uns[key]["params"])
            alpha = float(params["alpha"])
            label_key = key.removeprefix("de_") if key.startswith("de_") else key
            for contrast in a.uns[key]["results"]:
                n_de += 1
                d = _sig_first(get.de_df(a, contrast, key=key))
                sentence = tx.de_sentence(lib, params, contrast, d)
                conclusions.append({"text": sentence, "href": "#differential-expression"})
                f, num, den = tx.contrast_words(params, contrast)
                w = tx.where(params.get("subset"))
                title = f"{label} {w}: {tx.cells(f, num)} vs {tx.cells(f, den)}"
                de_blocks.append(
                    {
                        "heading": title,
                        "text": sentence + " Significant rows first.",
                        "figures": [
                            _fig(pl.volcano(d, alpha=alpha, title=f"Volcano: {title}"), "volcano"),
                            _fig(pl.ma_plot(d, alpha=alpha, title=f"MA: {title}"), "MA plot"),
                            _fig(pl.dispersion(a, key=key), "dispersion estimates"),
                        ],
                        "table": _table(
                            d,
                            f"de-{lib}-{key}-{contrast}",
                            file=files(f"{lib}_de_{label_key}_{contrast}.tsv"),
                        ),
                    }
                )
        if not n_de:
            skipped["differential-expression"].append(
                f"{label}: {notes.get('differential-expression') or 'no DE was run'}."
            )
        # --- literature
        if "concordance" in a.uns:
            cp = dict(a.uns["concordance"].get("params", {}))
            dkey = str(cp.get("key", "de"))
            de_label = "DE " + (
                tx.where(a.uns[dkey]["params"].get("subset")) if dkey in a.uns else dkey
            )
            for item in tx.literature_items(lib, a, de_label):
                conclusions.append({**item, "href": "#known-mtncrnas"})
            if dkey in a.uns:
                dp = dict(a.uns[dkey]["params"])
                lit_methods.append(
                    f"{label}: literature verdicts use the DE {tx.where(dp.get('subset'))} "
                    f"({dp.get('design', '')}, {cp.get('contrast', '')}, padj < "
                    f"{cp.get('alpha', '')}); studies on drug '{cp.get('drug') or 'any'}', "
                    f"cancer '{cp.get('cancer') or 'any'}' count as matching."
                )
            c = get.concordance_df(a)
            order = {"concordant": 0, "discordant": 1, "not_significant": 2, "not_detected": 3}
            c = c.assign(
                _o=c["verdict"].map(order).fillna(9), _m=c["context"] != "matching"
            ).sort_values(["_o", "_m", "padj"], na_position="last", kind="mergesort")
            c = c.drop(columns=["_o", "_m"]).reset_index(drop=True)
            urls = [
                tx.pubmed_url(str(r.citation), str(r.feature_id or r.symbol))
                for r in c.itertuples()
            ]
            conc_blocks.append(
                {
                    "heading": label,
                    "text": lit_methods[-1] if lit_methods else "",
                    "table": _table(
                        c,
                        f"concordance-{lib}",
                        file=files(f"{lib}_concordance.tsv"),
                        link_col="citation",
                        urls=urls,
                    ),
                }
            )
        else:
            skipped["known-mtncrnas"].append(
                f"{label}: no literature comparison: "
                f"{notes.get('known-mtncrnas') or 'it needs a DE result (mtncrna.tl.concordance)'}."
            )
        # --- signature scores
        if "signature_score" in a.obs.columns:
            info = a.uns.get("signature_score", {})
            auc = info.get("auc_in_sample")
            sig_blocks.append(
                {
                    "heading": f"{label}: signature scores",
                    "text": (
                        f"In-sample AUC ({info.get('positive', 'resistant')} vs the other "
                        f"{info.get('group_key', 'condition')} levels): {auc:.2f} (optimistic: the "
                        "signature was chosen on these samples)."
                        if auc is not None
                        else ""
                    ),
                    "figures": [_fig(pl.signature_scores(a), "scores by group", "half")],
                }
            )
    conclusions = groups.setdefault("Across libraries", [])
    if signature is not None:
        p = dict(signature.attrs.get("params", {}))
        n_up = int((signature["direction"] == "up").sum())
        rule = (
            f" (padj < {p['alpha']}, |log2FC| ≥ {p['lfc_threshold']} in at least "
            f"{p.get('min_significant', 1)} of {len(p.get('contrasts', []))} DE tables, same "
            "sign in all)"
            if "alpha" in p
            else ""
        )
        text = (
            f"Resistance signature: {len(signature)} features, {n_up} up and "
            f"{len(signature) - n_up} down in resistant cells{rule}; saved as signature.gmt for "
            "gseapy/decoupler."
        )
        conclusions.append({"text": text, "href": "#signatures"})
        sig_blocks.insert(
            0,
            {
                "heading": "Signature",
                "text": text,
                "table": _table(signature, "signature", file=files("signature.tsv")),
            },
        )
    else:
        skipped["signatures"].append(
            notes.get("signatures")
            or "No resistance signature: it needs DE results in which some features "
            "pass the signature thresholds."
        )
    integ_blocks = []
    if pairs is not None:
        n_c = int(pairs["coupled"].sum())
        text = (
            f"miRNA–target integration: {n_c} of {len(pairs)} literature miRNA–target pairs are "
            "coupled (negative partial correlation across samples beyond the design effects)."
        )
        conclusions.append({"text": text, "href": "#integration"})
        integ_blocks.append(
            {
                "text": text,
                "table": _table(
                    _sig_first(pairs, "coupled"), "pairs", file=files("mirna_target_pairs.tsv")
                ),
            }
        )
    else:
        skipped["integration"].append(
            "Not run: "
            + (
                notes.get("integration")
                or "it needs a small-RNA and a long-RNA library of the same samples."
            )
        )
    methods: list[dict] = [{"text": METHODS_TEXT}]
    if lit_methods:
        methods.append({"heading": "Literature verdicts", "list": lit_methods})
    methods.append({"text": CITATION_NOTE})
    if provenance:
        prov = dict(provenance)
        methods.append(
            {
                "heading": "Versions",
                "details": True,
                "pre": "\n".join(f"{k}: {v}" for k, v in dict(prov.get("versions", {})).items()),
            }
        )
        inputs = prov.get("inputs", {})
        if inputs:
            methods.append(
                {
                    "heading": "Inputs",
                    "details": True,
                    "table": _table(
                        pd.DataFrame(
                            {
                                "role": inputs.get("role", []),
                                "path": inputs.get("path", []),
                                "sha256": inputs.get("sha256", []),
                            }
                        ),
                        "inputs",
                    ),
                }
            )
        methods.append(
            {
                "heading": "Parameters",
                "details": True,
                "pre": "\n".join(f"{k}: {v}" for k, v in dict(prov.get("parameters", {})).items()),
            }
        )
    sections = [
        {
            "id": "summary",
            "title": "Conclusions",
            "intro": study,
            "conclusions": [{"heading": k, "lines": v} for k, v in groups.items() if v],
            "blocks": []
            if any(groups.values())
            else [{"text": "No analyses found in the inputs."}],
        },
        {
            "id": "samples-qc",
            "title": "Samples and QC",
            "intro": (
                "Library composition, purity of the mitochondrial preparations, PCA marked by "
                "each design factor, clustered sample correlations and the headline ncRNAs."
            ),
            "blocks": qc_blocks,
        },
        {"id": "enrichment", "title": "Mitochondrial enrichment", "blocks": enr_blocks},
        {"id": "differential-expression", "title": "Differential expression", "blocks": de_blocks},
        {
            "id": "known-mtncrnas",
            "title": "Known mtncRNAs and the literature",
            "blocks": conc_blocks,
        },
        {"id": "signatures", "title": "Resistance signature", "blocks": sig_blocks},
        {"id": "integration", "title": "Small/long RNA integration", "blocks": integ_blocks},
        {"id": "methods", "title": "Methods and provenance", "blocks": methods},
    ]
    for s in sections:
        s["skipped"] = skipped.get(s["id"], [])
        s["notices"] = notices.get(s["id"], [])
    return sections


def render(
    libraries: Mapping[str, ad.AnnData],
    path: str | Path,
    *,
    title: str = "mtncrna report",
    de_keys: tuple[str, ...] = ("de",),
    pairs: pd.DataFrame | None = None,
    signature: pd.DataFrame | None = None,
    provenance: Mapping[str, Any] | None = None,
    reference_version: str = "",
    notes: Mapping[str, str] | None = None,
    messages: Sequence[str] = (),
) -> Path:
    """Render the report for analysed ``libraries`` (name -> AnnData) to ``path`` (atomically).

    Tables written beside ``path`` under ``mtncrna run``'s names are linked from the page;
    ``notes`` (section id -> reason) say why a section was skipped; ``messages`` are shown at
    the top of the summary.
    """
    import jinja2
    from markupsafe import Markup

    from ..io import atomic_path

    out = Path(path)
    sections = build_sections(
        libraries,
        de_keys=de_keys,
        pairs=pairs,
        signature=signature,
        provenance=provenance,
        notes=notes,
        folder=out.parent,
        messages=messages,
    )
    for s in sections:
        for b in s["blocks"]:
            if b.get("table"):
                b["table"]["json"] = Markup(b["table"]["json"])
    if not reference_version:
        for a in libraries.values():
            reference_version = (
                a.uns.get("mtncrna", {}).get("annotate", {}).get("reference_version", "")
            )
            if reference_version:
                break
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    html = env.get_template("report.html.j2").render(
        title=title,
        version=__version__,
        reference_version=reference_version,
        created=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        sections=sections,
    )
    with atomic_path(out) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return out
