"""A seeded simulator of a mitochondrial fractionation study with planted, known answers.

Design: two cell lines x resistant/parental x ``n_replicates`` preparations; each preparation
gives a mitochondrial (``mito``) and a cytosolic library (shared ``pair`` id), for small and
long RNA. The mito library is a mixture: ``(1 - c)`` pure mitochondrial RNA plus ``c`` cytosolic
contamination, with ``c`` drawn per preparation (default 10-30 %), as real mito preps are.

Planted truth (returned in ``truth`` frames, one row per feature):

* ``mito_localised``: present in pure mitochondria (all mtDNA-encoded RNAs, the mitomiRs of the
  reference and a few "novel" imported miRNAs); everything else reaches the mito library only
  through contamination.
* ``resistance_lfc``: log2 change in resistant cells, in both compartments (the literature
  direction for the reference's ncRNAs, random for a few others).
* ``mito_pool_lfc``: log2 change of the mitochondrial pool only (the fraction x condition
  interaction), with the cytosolic level unchanged.
* miRNA-target coupling: for the reference's miRNA -> target pairs, the target's expression
  follows ``coupling`` times the miRNA's sample-specific deviation (beyond the design effects).
"""

from __future__ import annotations

from dataclasses import dataclass

import anndata as ad
import numpy as np
import pandas as pd

from .._constants import MT_CONTIG
from ..reference import Reference, load_reference

CELL_LINES = ("CAL-27", "SCC-9")

#: Nuclear genes in the simulated long-RNA library: markers of compartments used by QC, plus
#: housekeeping genes.
_NUCLEAR_GENES = {
    # nuclear-encoded mitochondrial proteins (enriched in the mitochondrial fraction)
    "mito": [
        "TOMM20",
        "TOMM40",
        "VDAC1",
        "VDAC2",
        "COX4I1",
        "SDHA",
        "SDHB",
        "HSPD1",
        "TFAM",
        "CYCS",
        "ATP5F1A",
        "ATP5F1B",
        "NDUFA4",
        "UQCRC1",
        "CS",
        "PHB2",
        "C1QBP",
        "TIMM23",
        "POLRMT",
        "PNPT1",
        "SOD2",
        "PPARGC1A",
        "OPA1",
        "MFN2",
    ],
    # cytosolic / cytoskeletal / glycolytic and ribosomal proteins
    "cytosol": [
        "GAPDH",
        "ACTB",
        "TUBB",
        "PKM",
        "LDHA",
        "ENO1",
        "ALDOA",
        "PGK1",
        "TPI1",
        "RPLP0",
        "RPS18",
        "RPL13A",
        "EEF1A1",
        "B2M",
        "HPRT1",
        "PPIA",
        "YWHAZ",
        "TBP",
        "GUSB",
        "HMBS",
    ],
    # nuclear-retained transcripts
    "nucleus": ["MALAT1", "NEAT1", "XIST", "MEG3", "KCNQ1OT1", "RN7SK", "SNHG1"],
    # other genes with no compartment bias
    "none": [
        "MYC",
        "TP53",
        "EGFR",
        "BCL2",
        "BAX",
        "ABCB1",
        "ABCC1",
        "ABCG2",
        "GSTP1",
        "ERCC1",
        "MKI67",
        "CDKN1A",
        "VIM",
        "CDH1",
        "CDH2",
        "SRSF2",
        "NFE2L2",
        "KEAP1",
        "HIF1A",
        "DNM1L",
        "MFF",
        "PINK1",
        "PRKN",
        "BNIP3",
        "MCL1",
        "XIAP",
        "SLC7A11",
        "GPX4",
        "AKT3",
        "KLF4",
        "MTHFR",
        "SRF",
        "APEX1",
        "ATG12",
        "CAB39",
        "SHMT2",
        "DHODH",
    ],
}


@dataclass
class Study:
    """A simulated study: both libraries, their truth tables and the miRNA-target pairs."""

    small: ad.AnnData
    long: ad.AnnData
    truth_small: pd.DataFrame
    truth_long: pd.DataFrame
    pairs: pd.DataFrame  # mirna, target, coupling
    contamination: pd.Series  # per preparation


def study_design(n_replicates: int = 3) -> pd.DataFrame:
    rows = []
    for line in CELL_LINES:
        for condition in ("parental", "resistant"):
            for rep in range(1, n_replicates + 1):
                pair = f"{line.split('-')[0]}{'P' if condition == 'parental' else 'R'}{rep}"
                for fraction in ("mito", "cytosol"):
                    rows.append(
                        {
                            "sample": f"{pair}_{fraction}",
                            "condition": condition,
                            "fraction": fraction,
                            "cell_line": line,
                            "drug": "cisplatin",
                            "batch": f"day{rep}",
                            "replicate": str(rep),
                            "pair": pair,
                        }
                    )
    return pd.DataFrame(rows).set_index("sample")


def _nb(rng: np.random.Generator, mu: np.ndarray) -> np.ndarray:
    alpha = 0.01 + 1.0 / (mu + 1.0)
    r = 1.0 / alpha
    return rng.negative_binomial(r, r / (r + mu)).astype(np.int64)


def _literature_direction(ref: Reference, ids: list[str]) -> np.ndarray:
    ev = ref.evidence
    out = np.zeros(len(ids))
    for i, rid in enumerate(ids):
        rows = ev[ev["reference_id"] == rid]
        s = (rows["direction_in_resistant"] == "up").sum() - (
            rows["direction_in_resistant"] == "down"
        ).sum()
        out[i] = np.sign(s)
    return out


def simulate_study(
    seed: int = 0,
    *,
    n_replicates: int = 3,
    n_other_mirnas: int = 300,
    contamination: tuple[float, float] = (0.1, 0.3),
    coupling: float = -0.8,
    reference: Reference | None = None,
) -> Study:
    """Simulate both libraries of a fractionation study with known answers (see module doc)."""
    ref = reference or load_reference()
    rng = np.random.default_rng(seed)
    design = study_design(n_replicates)
    preps = design["pair"].unique()
    c_prep = pd.Series(rng.uniform(*contamination, len(preps)), index=preps, name="contamination")
    f = ref.features

    # ---------------------------------------------------------------- small RNA
    mirs = f[(f["rna_class"] == "miRNA") & f.index.str.startswith("MIMAT")]
    known = [i for i in mirs.index[mirs["mt_class"] == "mitomiR"]]
    evidence_mirs = [i for i in mirs.index[mirs["n_evidence"] > 0] if i not in known]
    others = [i for i in mirs.index if i not in set(known) | set(evidence_mirs)]
    picked = list(rng.choice(others, size=n_other_mirnas, replace=False))
    mir_ids = known + evidence_mirs + picked
    mt_small = list(f.index[f["rna_class"].isin(["mt-tRNA", "mt-rRNA"])])
    small_ids = mir_ids + mt_small
    names_small = f.loc[small_ids, "symbol"].tolist()
    n_s = len(small_ids)
    novel = rng.choice(np.arange(len(known) + len(evidence_mirs), len(mir_ids)), 8, replace=False)
    mito_loc = np.zeros(n_s, dtype=bool)
    mito_loc[: len(known)] = True
    mito_loc[novel] = True
    mito_loc[len(mir_ids) :] = True
    cyto_log = rng.normal(7.0, 2.2, n_s)
    cyto_log[len(mir_ids) :] = rng.normal(4.0, 1.0, len(mt_small))  # little mt-RNA in cytosol
    mito_log = np.full(n_s, -np.inf)
    mito_log[mito_loc] = rng.normal(8.0, 1.5, mito_loc.sum())
    mito_log[len(mir_ids) :] = rng.normal(11.0, 1.5, len(mt_small))
    res_lfc = np.zeros(n_s)
    lit = _literature_direction(ref, small_ids)
    res_lfc[lit != 0] = 1.5 * lit[lit != 0]
    extra = rng.choice(np.flatnonzero(lit == 0)[: len(mir_ids)], 12, replace=False)
    res_lfc[extra] = rng.choice([-1.5, 1.5], 12)
    # mito-pool-only changes: imported miRNAs without a total change, whose mitochondrial pool
    # clearly exceeds the contamination they carry (else no design could see the change)
    mito_share = np.exp2(mito_log) / np.exp2(mito_log[np.isfinite(mito_log)]).sum()
    cyto_share = np.exp2(cyto_log) / np.exp2(cyto_log).sum()
    visible = 0.7 * mito_share > 4 * 0.3 * cyto_share
    candidates = np.flatnonzero(
        mito_loc[: len(mir_ids)] & (res_lfc[: len(mir_ids)] == 0) & visible[: len(mir_ids)]
    )
    pool = rng.choice(candidates, min(6, len(candidates)), replace=False)
    pool_lfc = np.zeros(n_s)
    pool_lfc[pool] = rng.choice([-2.0, 2.0], len(pool))
    line_eff = rng.normal(0, 0.3, (len(CELL_LINES), n_s))

    # sample-specific latent deviations of the miRNAs (carried over to their targets)
    latent = rng.normal(0, 0.5, (design.shape[0], n_s))
    counts_small = _mix(
        rng, design, c_prep, cyto_log, mito_log, res_lfc, pool_lfc, line_eff, latent, lib_size=2e6
    )
    truth_small = pd.DataFrame(
        {
            "reference_id": small_ids,
            "mito_localised": mito_loc,
            "resistance_lfc": res_lfc,
            "mito_pool_lfc": pool_lfc,
            "novel_import": np.isin(np.arange(n_s), novel),
        },
        index=pd.Index(names_small, name="feature"),
    )

    # ---------------------------------------------------------------- long RNA
    pairs = ref.target_pairs()
    pairs = pairs[pairs["mirna"].isin(names_small)].reset_index(drop=True)
    mt_long = list(f.index[f["rna_class"].isin(["mt-tRNA", "mt-rRNA", "mt-mRNA"])])
    lnc = list(
        f.index[
            f["rna_class"].isin(["lncRNA"])
            & (f["chrom"] != MT_CONTIG)
            & f["ensembl_gene_id"].astype(str).str.startswith("ENSG")
        ]
    )
    names_long = f.loc[mt_long + lnc, "symbol"].tolist()
    comp = ["mt"] * len(mt_long) + ["lnc"] * len(lnc)
    for c, genes in _NUCLEAR_GENES.items():
        for g in genes:
            if g not in names_long:
                names_long.append(g)
                comp.append(c)
    for g in pairs["target"]:
        if g not in names_long:
            names_long.append(g)
            comp.append("none")
    comp_arr = np.array(comp)
    n_l = len(names_long)
    cyto_log_l = rng.normal(8.0, 1.8, n_l)
    cyto_log_l[comp_arr == "mt"] = rng.normal(6.0, 1.0, (comp_arr == "mt").sum())
    mito_log_l = np.full(n_l, -np.inf)
    mito_log_l[comp_arr == "mt"] = rng.normal(12.0, 1.5, (comp_arr == "mt").sum())
    # nuclear-encoded mitochondrial mRNAs co-purify (translated at the outer membrane)
    mito_log_l[comp_arr == "mito"] = cyto_log_l[comp_arr == "mito"] - 1.0
    mito_loc_l = np.isfinite(mito_log_l)
    res_lfc_l = np.zeros(n_l)
    for g, lfc in (("ABCB1", 2.0), ("BCL2", 1.0), ("GSTP1", 1.0), ("SLC7A11", 1.2)):
        res_lfc_l[names_long.index(g)] = lfc
    lit_l = _literature_direction(
        ref, [f.index[f["symbol"] == n][0] if (f["symbol"] == n).any() else "" for n in names_long]
    )
    res_lfc_l[lit_l != 0] = 1.5 * lit_l[lit_l != 0]
    line_eff_l = rng.normal(0, 0.3, (len(CELL_LINES), n_l))
    latent_l = rng.normal(0, 0.25, (design.shape[0], n_l))
    for row in pairs.itertuples():
        j = names_small.index(row.mirna)
        t = names_long.index(row.target)
        latent_l[:, t] = coupling * latent[:, j] + rng.normal(0, 0.15, design.shape[0])
    counts_long = _mix(
        rng,
        design,
        c_prep,
        cyto_log_l,
        mito_log_l,
        res_lfc_l,
        np.zeros(n_l),
        line_eff_l,
        latent_l,
        lib_size=2e7,
    )
    truth_long = pd.DataFrame(
        {"compartment": comp_arr, "mito_localised": mito_loc_l, "resistance_lfc": res_lfc_l},
        index=pd.Index(names_long, name="feature"),
    )
    pairs = pairs.assign(coupling=coupling)

    def make(counts: np.ndarray, names: list[str], library: str) -> ad.AnnData:
        a = ad.AnnData(
            X=counts, obs=design.copy(), var=pd.DataFrame(index=pd.Index(names, name="feature"))
        )
        a.layers["counts"] = counts.copy()
        a.uns["mtncrna"] = {
            "library": library,
            "format": "simulated",
            "simulation": {"seed": seed, "n_replicates": n_replicates},
        }
        return a

    return Study(
        make(counts_small, names_small, "small"),
        make(counts_long, names_long, "long"),
        truth_small,
        truth_long,
        pairs,
        c_prep,
    )


def _mix(
    rng: np.random.Generator,
    design: pd.DataFrame,
    c_prep: pd.Series,
    cyto_log: np.ndarray,
    mito_log: np.ndarray,
    res_lfc: np.ndarray,
    pool_lfc: np.ndarray,
    line_eff: np.ndarray,
    latent: np.ndarray,
    lib_size: float,
) -> np.ndarray:
    """Expected proportions per library, then negative-binomial counts."""
    res = (design["condition"] == "resistant").to_numpy()[:, None]
    line = pd.Categorical(design["cell_line"], categories=CELL_LINES).codes
    cyto = np.exp2(cyto_log[None, :] + res * res_lfc + line_eff[line] + latent)
    mito = np.exp2(mito_log[None, :] + res * (res_lfc + pool_lfc) + line_eff[line] + latent)
    cyto_p = cyto / cyto.sum(axis=1, keepdims=True)
    mito_p = mito / mito.sum(axis=1, keepdims=True)
    c = c_prep.reindex(design["pair"]).to_numpy()[:, None]
    is_mito = (design["fraction"] == "mito").to_numpy()[:, None]
    prop = np.where(is_mito, (1 - c) * mito_p + c * cyto_p, cyto_p)
    depth = lib_size * np.exp(rng.normal(0, 0.3, (design.shape[0], 1)))
    return _nb(rng, prop * depth)
