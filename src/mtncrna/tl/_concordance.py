"""``tl.concordance``: do the known mtncRNAs move in resistant cells as the literature says?"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from .._errors import MtncrnaError
from .._uns import de_frame
from ..reference import Reference, load_reference

VERDICTS = ("concordant", "discordant", "not_significant", "not_detected")
COLUMNS = (
    "feature_id",
    "reference_id",
    "symbol",
    "evidence_id",
    "context",
    "expected_direction",
    "log2FoldChange",
    "padj",
    "verdict",
    "drug",
    "cancer",
    "citation",
    "confidence",
)


def _context(row: pd.Series, drug: str | None, cancer: str | None) -> str:
    d = str(row.get("drug", "")).lower()
    c = str(row.get("cancer", "")).lower()
    drug_ok = drug is None or drug.lower() in d
    cancer_ok = cancer is None or cancer.lower() in c
    if drug is None and cancer is None:
        return "any"
    return "matching" if drug_ok and cancer_ok else "other"


def concordance_table(
    de: pd.DataFrame,
    *,
    reference: Reference | None = None,
    drug: str | None = None,
    cancer: str | None = None,
    alpha: float = 0.1,
    matching_only: bool = False,
    include_absent: bool = False,
) -> pd.DataFrame:
    """Compare a DE table (``feature_id``, ``log2FoldChange``, ``padj``) with the literature.

    One row per known mtncRNA evidence row with a direction in resistant cells (up/down):
    ``context`` says whether the study matches ``drug``/``cancer`` (``matching``), does not
    (``other``), or no context was asked (``any``); ``verdict`` is ``concordant`` (padj <
    ``alpha`` and the same sign), ``discordant`` (padj < ``alpha``, opposite sign),
    ``not_significant``, or ``not_detected`` (not in the table, all zero, or filtered out for low
    counts). Only ncRNAs present in the DE table are listed unless ``include_absent``.
    """
    ref = reference or load_reference()
    missing = [c for c in ("feature_id", "log2FoldChange", "padj") if c not in de.columns]
    if missing:
        raise MtncrnaError(f"the DE table lacks column(s) {', '.join(missing)}")
    de = de.copy()
    if "reference_id" not in de.columns or de["reference_id"].isna().all():
        de["reference_id"] = ref.resolve_many(list(de["feature_id"].astype(str)))[
            "reference_id"
        ].to_numpy()
    de = de[de["reference_id"].notna() & (de["reference_id"].astype(str) != "")]
    by_id = de.drop_duplicates("reference_id").set_index("reference_id")
    ev = ref.evidence
    ev = ev[ev["direction_in_resistant"].isin(["up", "down"]) & (ev["reference_id"] != "")]
    rows = []
    for _, e in ev.iterrows():
        ctx = _context(e, drug, cancer)
        if matching_only and ctx == "other":
            continue
        rid = e["reference_id"]
        sym = ref.features.at[rid, "symbol"] if rid in ref.features.index else e["reference_name"]
        if rid not in by_id.index and not include_absent:
            continue
        if rid in by_id.index:
            r = by_id.loc[rid]
            lfc, padj, feature = float(r["log2FoldChange"]), float(r["padj"]), r["feature_id"]
        else:
            lfc, padj, feature = np.nan, np.nan, ""
        expected = 1 if e["direction_in_resistant"] == "up" else -1
        if not np.isfinite(lfc) or not np.isfinite(padj):
            verdict = "not_detected"
        elif padj < alpha:
            verdict = "concordant" if np.sign(lfc) == expected else "discordant"
        else:
            verdict = "not_significant"
        rows.append(
            {
                "feature_id": feature,
                "reference_id": rid,
                "symbol": sym,
                "evidence_id": e["evidence_id"],
                "context": ctx,
                "expected_direction": e["direction_in_resistant"],
                "log2FoldChange": lfc,
                "padj": padj,
                "verdict": verdict,
                "drug": e.get("drug", ""),
                "cancer": e.get("cancer", ""),
                "citation": e.get("citation", ""),
                "confidence": e.get("confidence", ""),
            }
        )
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    order = {"matching": 0, "any": 0, "other": 1}
    out = out.sort_values(
        ["context", "verdict", "symbol"], key=lambda s: s.map(order) if s.name == "context" else s
    ).reset_index(drop=True)
    out.attrs["summary"] = out["verdict"].value_counts().reindex(VERDICTS, fill_value=0).to_dict()
    return out


def concordance(
    adata: ad.AnnData,
    *,
    key: str = "de",
    contrast: str | None = None,
    drug: str | None = None,
    cancer: str | None = None,
    alpha: float = 0.1,
    key_added: str = "concordance",
    copy: bool = False,
) -> ad.AnnData | None:
    """Literature concordance of the DE results in ``uns[key]`` (see :func:`concordance_table`).

    Writes ``uns[key_added]`` with ``table`` and ``params``; read it with
    :func:`mtncrna.get.concordance_df`.
    """

    adata = adata.copy() if copy else adata
    de = de_frame(adata, contrast, key=key)
    if contrast is None and de["contrast"].nunique() > 1:
        raise MtncrnaError(
            f"uns['{key}'] has several contrasts; pick one with contrast= "
            f"({', '.join(de['contrast'].unique())})"
        )
    table = concordance_table(de, drug=drug, cancer=cancer, alpha=alpha)
    adata.uns[key_added] = {
        "kind": "concordance",
        "table": table,
        "params": {
            "key": key,
            "contrast": contrast or str(de["contrast"].iat[0]),
            "drug": drug or "",
            "cancer": cancer or "",
            "alpha": alpha,
        },
    }
    return adata if copy else None
