"""Gather report sections from analysed AnnData objects and render one self-contained HTML file.

The file opens offline: no CDN, figures are embedded as PNG data URIs, the table sorting and
search are a few lines of inline JavaScript. Each section has a stable id (``SECTION_IDS``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd

from .. import get, pl
from .._version import __version__

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
MAX_ROWS = 300
METHODS_TEXT = (
    "Counts were modelled with mtncrna's implementation of DESeq2 (median-of-ratios size "
    "factors, Cox-Reid gene-wise dispersions, parametric trend fitted on genes with dispersion "
    "> 1e-6, MAP shrinkage, Wald/LRT tests, Cook's distances, independent filtering), which "
    "reproduces R DESeq2 1.38 to ~1e-5 on real data. Mitochondrial enrichment uses size "
    "factors from features that are neither mtDNA-encoded nor known mtncRNAs, so that zero is "
    "the cytosolic contamination level."
)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        if v == 0 or 1e-3 <= abs(v) < 1e5:
            return f"{v:.3f}".rstrip("0").rstrip(".") if abs(v) < 1e3 else f"{v:.1f}"
        return f"{v:.2e}"
    return str(v)


def _table(
    df: pd.DataFrame,
    table_id: str,
    *,
    note: str = "",
    max_rows: int = MAX_ROWS,
    verdict_col: str | None = None,
) -> dict:
    shown = df.head(max_rows)
    rows = []
    for rec in shown.itertuples(index=False):
        cells = []
        for col, v in zip(shown.columns, rec, strict=True):
            cls = f"verdict-{v}" if verdict_col and col == verdict_col else ""
            cells.append({"text": _fmt(v), "cls": cls})
        rows.append(cells)
    if len(df) > max_rows:
        note = (note + " " if note else "") + f"First {max_rows} of {len(df)} rows shown."
    return {"id": table_id, "columns": list(shown.columns), "rows": rows, "note": note}


def _fig(fig: Any, caption: str) -> dict:
    from matplotlib.figure import Figure

    out = {"png": _png(fig), "caption": caption}
    if isinstance(fig, Figure):
        fig.clear()
    return out


def build_sections(
    libraries: Mapping[str, ad.AnnData],
    *,
    de_keys: tuple[str, ...] = (),
    pairs: pd.DataFrame | None = None,
    signature: pd.DataFrame | None = None,
    provenance: Mapping[str, Any] | None = None,
    skipped: Sequence[tuple[str, str]] = (),
) -> list[dict]:
    """The report's sections (data only) from analysed libraries; each has a stable ``id``.

    ``skipped`` lists (analysis, reason) pairs of analyses the study could not support; each is
    stated among the findings.
    """
    findings: list[str] = []
    qc_blocks, enr_blocks, de_blocks, conc_blocks, sig_blocks = [], [], [], [], []
    for lib, a in libraries.items():
        label = f"{lib}-RNA"
        if "total_counts" in a.obs.columns:
            q = get.qc_df(a)
            pur = q["purity"].dropna()
            if len(pur):
                findings.append(
                    f"{label}: mitochondrial preparations are {100 * pur.median():.0f} % "
                    f"pure (median; {100 * pur.min():.0f}-{100 * pur.max():.0f} %), "
                    f"{int(q['outlier'].sum())} outlier sample(s)."
                )
            figs = [_fig(pl.class_composition(a), f"{label}: reads per class")]
            if a.obs["contamination"].notna().any():
                figs.append(_fig(pl.purity(a), f"{label}: cytosolic contamination of mito preps"))
            figs += [
                _fig(pl.pca(a), f"{label}: PCA (blind VST)"),
                _fig(pl.correlation_heatmap(a), f"{label}: sample correlation"),
            ]
            qc_blocks.append({"heading": label, "figures": figs, "table": _table(q, f"qc-{lib}")})
        if "enrichment" in a.uns:
            e = get.enrichment_df(a).sort_values("padj", na_position="last")
            n_enr = int(e["mito_enriched"].sum())
            known = e[e["mito_enriched"] & e.get("known_mtncrna", False)]
            findings.append(
                f"{label}: {n_enr} features enriched in mitochondria above the "
                f"contamination background ({len(known)} known mtncRNAs)."
            )
            blocks = {
                "heading": label,
                "figures": [_fig(pl.enrichment_plot(e), f"{label}: mito vs cytosol")],
                "table": _table(e, f"enrichment-{lib}"),
            }
            enr_blocks.append(blocks)
            for name in a.uns["enrichment"].get("interaction", {}):
                it = get.enrichment_df(a, interaction=name).sort_values("padj", na_position="last")
                n_i = int((it["padj"] < 0.05).sum())
                findings.append(
                    f"{label}: {n_i} features change their mitochondrial pool "
                    f"with {name.replace('_', ' = ')} beyond their total level."
                )
                enr_blocks.append(
                    {
                        "heading": f"{label}: fraction x {name} interaction",
                        "table": _table(it, f"interaction-{lib}-{name}"),
                    }
                )
        for key in de_keys:
            if key not in a.uns:
                continue
            for contrast in a.uns[key]["results"]:
                d = get.de_df(a, contrast, key=key).sort_values("pvalue", na_position="last")
                alpha = float(a.uns[key]["params"]["alpha"])
                up = int(((d["padj"] < alpha) & (d["log2FoldChange"] > 0)).sum())
                down = int(((d["padj"] < alpha) & (d["log2FoldChange"] < 0)).sum())
                subset = a.uns[key]["params"].get("subset", {})
                where = ", ".join(f"{k}={v}" for k, v in dict(subset).items()) or "all samples"
                title = f"{label}: {contrast} ({where})"
                findings.append(f"{title}: {up} up, {down} down at padj < {alpha}.")
                de_blocks.append(
                    {
                        "heading": title,
                        "text": f"Design {a.uns[key]['params']['design']}.",
                        "figures": [
                            _fig(pl.volcano(d, alpha=alpha, title=title), "volcano"),
                            _fig(pl.ma_plot(d, alpha=alpha, title=title), "MA plot"),
                        ],
                        "table": _table(d, f"de-{lib}-{key}-{contrast}"),
                    }
                )
        if "concordance" in a.uns:
            c = get.concordance_df(a)
            counts = c["verdict"].value_counts()
            findings.append(
                f"{label}: literature concordance "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
                + "."
            )
            conc_blocks.append(
                {"heading": label, "table": _table(c, f"concordance-{lib}", verdict_col="verdict")}
            )
        if "signature_score" in a.obs.columns:
            info = a.uns.get("signature_score", {})
            auc = info.get("auc_in_sample")
            sig_blocks.append(
                {
                    "heading": f"{label}: signature scores",
                    "text": (
                        f"In-sample AUC (resistant vs parental): {auc:.2f}."
                        if auc is not None
                        else ""
                    ),
                    "figures": [_fig(pl.signature_scores(a), "scores by group")],
                }
            )
    if signature is not None:
        sig_blocks.insert(0, {"heading": "Signature", "table": _table(signature, "signature")})
        findings.append(
            f"Resistance signature: {len(signature)} features "
            f"({int((signature['direction'] == 'up').sum())} up)."
        )
    integ_blocks = []
    if pairs is not None:
        n_c = int(pairs["coupled"].sum())
        findings.append(
            f"miRNA-target integration: {n_c} of {len(pairs)} literature pairs "
            "coupled beyond the design effects."
        )
        integ_blocks.append({"table": _table(pairs, "pairs")})
    methods = []
    if provenance:
        prov = dict(provenance)
        methods.append(
            {
                "heading": "Versions",
                "pre": "\n".join(f"{k}: {v}" for k, v in dict(prov.get("versions", {})).items()),
            }
        )
        inputs = prov.get("inputs", {})
        if inputs:
            methods.append(
                {
                    "heading": "Inputs",
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
                "pre": "\n".join(f"{k}: {v}" for k, v in dict(prov.get("parameters", {})).items()),
            }
        )
    methods.append({"text": METHODS_TEXT})
    sections = [
        {
            "id": "summary",
            "title": "Summary",
            "findings": (findings or ["No analyses found."])
            + [f"Not run - {what}: {why}." for what, why in skipped],
            "blocks": [],
        },
        {
            "id": "samples-qc",
            "title": "Samples and QC",
            "blocks": qc_blocks,
            "intro": "Library composition, purity of the mitochondrial fraction, PCA, correlation.",
        },
        {"id": "enrichment", "title": "Mitochondrial enrichment", "blocks": enr_blocks},
        {"id": "differential-expression", "title": "Differential expression", "blocks": de_blocks},
        {
            "id": "known-mtncrnas",
            "title": "Known mtncRNAs and the literature",
            "blocks": conc_blocks,
        },
        {"id": "signatures", "title": "Resistance signatures", "blocks": sig_blocks},
        {"id": "integration", "title": "Small/long RNA integration", "blocks": integ_blocks},
        {"id": "methods", "title": "Methods and provenance", "blocks": methods},
    ]
    for s in sections:
        if not s["blocks"] and s["id"] not in ("summary",):
            s["blocks"] = [{"text": "Not run for this study."}]
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
    skipped: Sequence[tuple[str, str]] = (),
) -> Path:
    """Render the report for analysed ``libraries`` (name -> AnnData) to ``path`` (atomically)."""
    import jinja2

    from ..io import atomic_path

    sections = build_sections(
        libraries,
        de_keys=de_keys,
        pairs=pairs,
        signature=signature,
        provenance=provenance,
        skipped=skipped,
    )
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
    out = Path(path)
    with atomic_path(out) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return out
