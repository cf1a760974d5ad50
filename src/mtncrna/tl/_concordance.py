"""``tl.concordance``: do the known mtncRNAs move in resistant cells as the literature says?"""

from __future__ import annotations

import logging
import re

import anndata as ad
import numpy as np
import pandas as pd

from .._errors import MtncrnaError
from .._uns import de_frame
from ..reference import Reference, load_reference

logger = logging.getLogger("mtncrna")

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
    "n_features_for_id",
    "drug",
    "cancer",
    "citation",
    "confidence",
)
_RESISTANT = re.compile(r"resist|^res$|^r$|^dr$|^mdr$", re.IGNORECASE)
_SENSITIVE = re.compile(
    r"parent|sensitiv|^sens?$|^s$|^wt$|wild.?type|control|^ctrl$|^ctl$|naive|untreated",
    re.IGNORECASE,
)


def contrast_orientation(contrast: str) -> str:
    """``resistant_over_parental``, ``reversed`` or ``unchecked`` for a DESeq2-style name.

    ``condition_resistant_vs_parental`` (numerator resistant) is what concordance expects;
    ``condition_parental_vs_resistant`` is reversed; names that say neither are unchecked.
    """
    m = re.match(r"^(?:.*?_)?([^_]+(?:_[^_]+)*?)_vs_(.+)$", str(contrast))
    if not m:
        return "unchecked"
    num, den = m.group(1).split("_")[-1], m.group(2)
    num_res, den_res = bool(_RESISTANT.search(num)), bool(_RESISTANT.search(den))
    num_sen, den_sen = bool(_SENSITIVE.search(num)), bool(_SENSITIVE.search(den))
    if num_res and not den_res:
        return "resistant_over_parental"
    if den_res and not num_res:
        return "reversed"
    if num_sen and not den_sen:
        return "reversed"
    if den_sen and not num_sen:
        return "resistant_over_parental"
    return "unchecked"


def _context(ref: Reference, row: dict, drug: str | None, cancer: str | None) -> str:
    if drug is None and cancer is None:
        return "any"
    voc = ref.vocabulary
    ok = True
    for kind, asked in (("drug", drug), ("cancer", cancer)):
        if asked is None:
            continue
        study = str(row.get(kind, ""))
        if voc is not None:
            ok &= voc.matches(kind, asked, study)
        else:
            ok &= asked.casefold() in study.casefold()
    return "matching" if ok else "other"


def _feature_ids(de: pd.DataFrame, ref: Reference) -> list[tuple[str, ...]]:
    """Reference ids of every DE row: one for a plain name, all members for a pair/group."""
    if "reference_id" in de.columns and de["reference_id"].notna().any():
        given = de["reference_id"].fillna("").astype(str)
        if (given != "").any():
            return [(g,) if g else () for g in given]
    res = ref.resolve_many(list(de["feature_id"].astype(str)))
    out: list[tuple[str, ...]] = []
    for rid, status, cand in zip(
        res["reference_id"], res["status"], res["candidates"], strict=True
    ):
        if status == "group":
            out.append(tuple(c for c in str(cand).split(";") if c))
        elif rid:
            out.append((rid,))
        else:
            out.append(())
    return out


def concordance_table(
    de: pd.DataFrame,
    *,
    reference: Reference | None = None,
    drug: str | None = None,
    cancer: str | None = None,
    alpha: float = 0.1,
    matching_only: bool = False,
    include_absent: bool = False,
    summary_scope: str = "matching",
    contrast: str | None = None,
) -> pd.DataFrame:
    """Compare a DE table (``feature_id``, ``log2FoldChange``, ``padj``) with the literature.

    One row per known mtncRNA evidence row with a direction in resistant cells (up/down) and
    per DE feature of that entity: ``context`` says whether the study matches ``drug`` /
    ``cancer`` (``matching``; names are read through the reference vocabulary, so ``DDP`` is
    cisplatin and asking for lung cancer matches an NSCLC study), does not (``other``), or no
    context was asked (``any``). ``verdict`` is ``concordant`` (padj < ``alpha`` and the same
    sign), ``discordant`` (padj < ``alpha``, opposite sign), ``not_significant``, or
    ``not_detected`` (all zero or filtered out; or not in the table with ``include_absent``).
    Two DE rows naming one entity (``hsa-miR-2392`` and ``MIR2392``) each get their verdict and
    ``n_features_for_id`` = 2; nothing is dropped. ``matching_only`` keeps only matching
    studies.

    The DE must be resistant over parental (log2FC > 0 = up in resistant): ``contrast`` (or the
    table's ``contrast`` column) is checked and a reversed contrast is refused.

    ``attrs``: ``summary`` (verdict counts over matching studies, or over all listed rows when
    ``summary_scope="all"`` or no context was asked), ``summary_scope``, ``coverage`` (how many
    DE features the verdicts used, in all and per verdict, and their share of the table) and
    ``params`` (including ``orientation``).
    """
    ref = reference or load_reference()
    missing = [c for c in ("feature_id", "log2FoldChange", "padj") if c not in de.columns]
    if missing:
        raise MtncrnaError(f"the DE table lacks column(s) {', '.join(missing)}")
    if summary_scope not in ("matching", "all"):
        raise MtncrnaError(f"summary_scope must be 'matching' or 'all', got '{summary_scope}'")
    names = [contrast] if contrast else []
    if not names and "contrast" in de.columns:
        names = [str(c) for c in pd.unique(de["contrast"].dropna())]
    orientation = "unchecked"
    if names:
        found = {n: contrast_orientation(n) for n in names}
        bad = [n for n, o in found.items() if o == "reversed"]
        if bad:
            raise MtncrnaError(
                f"contrast {', '.join(bad)} puts the parental/sensitive cells in the numerator; "
                "concordance compares with 'up in resistant cells' and needs resistant over "
                "parental: give the contrast the other way round"
            )
        orientation = (
            "resistant_over_parental"
            if all(o == "resistant_over_parental" for o in found.values())
            else "unchecked"
        )
    if orientation == "unchecked":
        logger.warning(
            "concordance: could not tell from the contrast name%s whether the DE is resistant "
            "over parental; verdicts assume log2FoldChange > 0 means up in resistant cells",
            f" ({', '.join(names)})" if names else "",
        )
    voc = ref.vocabulary
    for kind, asked in (("drug", drug), ("cancer", cancer)):
        if asked is not None and voc is not None and not voc.known(kind, asked):
            logger.warning(
                "concordance: %s '%s' is not in the reference vocabulary; matched by its own "
                "spelling only",
                kind,
                asked,
            )

    de = de.reset_index(drop=True)
    ids = _feature_ids(de, ref)
    rows_by_id: dict[str, list[int]] = {}
    for i, rids in enumerate(ids):
        for rid in rids:
            rows_by_id.setdefault(rid, []).append(i)
    dups = {rid: rows for rid, rows in rows_by_id.items() if len(rows) > 1}
    if dups:
        shown = "; ".join(
            f"{', '.join(de.loc[r, 'feature_id'].astype(str))}" for r in list(dups.values())[:5]
        )
        logger.warning(
            "concordance: %d reference entities have several DE rows (%s); each row is kept "
            "and reported (n_features_for_id)",
            len(dups),
            shown,
        )
    ev = ref.evidence
    ev = ev[ev["direction_in_resistant"].isin(["up", "down"]) & (ev["reference_id"] != "")]
    lfc_all = pd.to_numeric(de["log2FoldChange"], errors="coerce").to_numpy(float)
    padj_all = pd.to_numeric(de["padj"], errors="coerce").to_numpy(float)
    rows = []
    used_rows: dict[str, set[int]] = {v: set() for v in VERDICTS}
    for e in ev.to_dict("records"):
        ctx = _context(ref, e, drug, cancer)
        if matching_only and ctx == "other":
            continue
        rid = e["reference_id"]
        sym = ref.features.at[rid, "symbol"] if rid in ref.features.index else e["reference_name"]
        de_rows = rows_by_id.get(rid, [])
        if not de_rows and not include_absent:
            continue
        expected = 1 if e["direction_in_resistant"] == "up" else -1
        for i in de_rows or [None]:
            if i is None:
                lfc, padj, feature = np.nan, np.nan, ""
            else:
                lfc, padj, feature = lfc_all[i], padj_all[i], str(de.at[i, "feature_id"])
            if not np.isfinite(lfc) or not np.isfinite(padj):
                verdict = "not_detected"
            elif padj < alpha:
                verdict = "concordant" if np.sign(lfc) == expected else "discordant"
            else:
                verdict = "not_significant"
            if i is not None and ctx != "other":
                used_rows[verdict].add(i)
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
                    "n_features_for_id": len(de_rows),
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
    scope = "all" if summary_scope == "all" or (drug is None and cancer is None) else "matching"
    counted = out if scope == "all" else out[out["context"] == "matching"]
    out.attrs["summary"] = (
        counted["verdict"].value_counts().reindex(VERDICTS, fill_value=0).to_dict()
    )
    out.attrs["summary_scope"] = (
        "all studies" if scope == "all" else "studies matching " + _asked(drug, cancer)
    )
    n_de = len(de)
    if scope == "all":
        used_rows = {v: set() for v in VERDICTS}
        for feat, verdict in zip(out["feature_id"], out["verdict"], strict=True):
            if feat:
                used_rows[verdict] |= set(np.flatnonzero(de["feature_id"].astype(str) == feat))
    used = set().union(*used_rows.values())
    out.attrs["coverage"] = {
        "n_de_features": n_de,
        "n_de_features_in_reference": int(sum(1 for r in ids if r)),
        "n_de_features_used": len(used),
        "share_used": (len(used) / n_de) if n_de else 0.0,
        "per_verdict": {v: len(used_rows[v]) for v in VERDICTS},
        "n_duplicate_entities": len(dups),
    }
    out.attrs["params"] = {
        "drug": drug or "",
        "cancer": cancer or "",
        "alpha": alpha,
        "matching_only": matching_only,
        "summary_scope": scope,
        "orientation": orientation,
        "vocabulary": "reference/vocabulary.tsv" if voc is not None else "",
        "reference_version": ref.version,
    }
    return out


def _asked(drug: str | None, cancer: str | None) -> str:
    return " and ".join(f"{k} {v}" for k, v in (("drug", drug), ("cancer", cancer)) if v)


def summary_line(table: pd.DataFrame) -> str:
    """One line for a person: verdict counts, their scope, and the share of the DE they used."""
    s = table.attrs.get("summary", {})
    cov = table.attrs.get("coverage", {})
    counts = ", ".join(f"{k} {v}" for k, v in s.items())
    line = f"{counts} (over {table.attrs.get('summary_scope', 'all studies')})"
    if cov:
        line += (
            f"; verdicts used {cov['n_de_features_used']} of {cov['n_de_features']} DE features "
            f"({100 * cov['share_used']:.2g}%)"
        )
    return line


def concordance(
    adata: ad.AnnData,
    *,
    key: str = "de",
    contrast: str | None = None,
    drug: str | None = None,
    cancer: str | None = None,
    alpha: float = 0.1,
    matching_only: bool = False,
    summary_scope: str = "matching",
    key_added: str = "concordance",
    copy: bool = False,
) -> ad.AnnData | None:
    """Literature concordance of the DE results in ``uns[key]`` (see :func:`concordance_table`).

    Writes ``uns[key_added]`` with ``table``, ``summary``, ``coverage`` and ``params``; read it
    with :func:`mtncrna.get.concordance_df`.
    """

    adata = adata.copy() if copy else adata
    de = de_frame(adata, contrast, key=key)
    if contrast is None and de["contrast"].nunique() > 1:
        raise MtncrnaError(
            f"uns['{key}'] has several contrasts; pick one with contrast= "
            f"({', '.join(de['contrast'].unique())})"
        )
    name = contrast or str(de["contrast"].iat[0])
    table = concordance_table(
        de,
        drug=drug,
        cancer=cancer,
        alpha=alpha,
        matching_only=matching_only,
        summary_scope=summary_scope,
        contrast=name,
    )
    cov = dict(table.attrs["coverage"])
    cov["per_verdict"] = dict(cov["per_verdict"])
    adata.uns[key_added] = {
        "kind": "concordance",
        "table": table,
        "summary": {k: int(v) for k, v in table.attrs["summary"].items()},
        "coverage": cov,
        "params": {
            "key": key,
            "contrast": name,
            "drug": drug or "",
            "cancer": cancer or "",
            "alpha": alpha,
            "matching_only": matching_only,
            "summary_scope": table.attrs["params"]["summary_scope"],
            "orientation": table.attrs["params"]["orientation"],
        },
    }
    return adata if copy else None
