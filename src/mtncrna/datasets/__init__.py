"""Example data: the bundled example study and a seeded toy generator.

``toy(seed=0)`` simulates a mito/cytosol x resistant/parental design with negative-binomial
counts whose effects follow the reference's literature evidence; ``example()`` reads the bundled
files (written once by ``examples/make_example_data.py`` from ``toy(seed=0)``) through the real
readers, as a user's data would be.
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from .._errors import MtncrnaError
from ..reference import Reference, load_reference

__all__ = ["example", "example_dir", "toy", "toy_design"]

#: Nuclear genes in the toy long-RNA library: markers of compartments used by QC, plus
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


def toy_design(n_replicates: int = 3) -> pd.DataFrame:
    """The toy sample sheet: resistant/parental x mito/cytosol x ``n_replicates`` preparations.

    The mito and cytosol libraries of one preparation share a ``pair`` id; each replicate is a
    separate ``batch`` (day of fractionation), as in a paired fractionation experiment.
    """
    rows = []
    for condition, line in (("parental", "CAL-27"), ("resistant", "CAL-27-CisR")):
        for rep in range(1, n_replicates + 1):
            pair = f"{'P' if condition == 'parental' else 'R'}{rep}"
            for fraction in ("mito", "cytosol"):
                rows.append(
                    {
                        "sample": f"{pair}_{fraction}",
                        "condition": condition,
                        "fraction": fraction,
                        "cell_line": line,
                        "drug": "cisplatin",
                        "batch": f"day{rep}",
                        "replicate": rep,
                        "pair": pair,
                    }
                )
    return pd.DataFrame(rows).set_index("sample")


def _effects(ref: Reference, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """log2 effects (mito vs cytosol, resistant vs parental) implied by the reference."""
    feats = ref.features.reindex(ids)
    mt_class = feats["mt_class"].astype(str).to_numpy()
    mito = np.zeros(len(ids))
    mito[mt_class == "mitomiR"] = 1.5
    mito[np.isin(mt_class, ["mt-tRNA", "mt-rRNA", "mt-mRNA"])] = 3.0
    mito[mt_class == "mito-lncRNA"] = 1.0
    res = np.zeros(len(ids))
    ev = ref.evidence
    for i, rid in enumerate(ids):
        rows = ev[ev["reference_id"] == rid]
        if rows.empty:
            continue
        sign = (rows["direction_in_resistant"] == "up").sum() - (
            rows["direction_in_resistant"] == "down"
        ).sum()
        cis = rows["drug"].str.contains("cisplatin", na=False).any()
        res[i] = np.sign(sign) * (1.5 if cis else 0.8)
    return mito, res


def _simulate_counts(
    rng: np.random.Generator,
    design: pd.DataFrame,
    log2_base: np.ndarray,
    mito_lfc: np.ndarray,
    res_lfc: np.ndarray,
) -> np.ndarray:
    n = design.shape[0]
    is_mito = (design["fraction"] == "mito").to_numpy()[:, None]
    is_res = (design["condition"] == "resistant").to_numpy()[:, None]
    size = np.exp(rng.normal(0.0, 0.25, size=(n, 1)))
    batch = pd.factorize(design["batch"])[0]
    batch_eff = rng.normal(0.0, 0.15, size=(batch.max() + 1, log2_base.size))[batch]
    log2_mu = (
        log2_base[None, :] + is_mito * mito_lfc[None, :] + is_res * res_lfc[None, :] + batch_eff
    )
    mu = size * np.exp2(log2_mu)
    alpha = 0.02 + 1.5 / (mu + 1.0)
    r = 1.0 / alpha
    return rng.negative_binomial(r, r / (r + mu)).astype(np.int64)


def toy(
    library: str = "small",
    *,
    seed: int = 0,
    n_replicates: int = 3,
    n_features: int = 300,
    reference: Reference | None = None,
) -> ad.AnnData:
    """Simulate a small-RNA (``"small"``) or long-RNA (``"long"``) count table.

    Features are real reference entities (all mitomiRs with literature evidence plus random
    other miRBase miRNAs for ``"small"``; the 37 mtDNA genes, the curated lncRNAs and marker
    nuclear genes for ``"long"``). Effects follow the reference: mitomiRs and mtDNA transcripts
    are enriched in the mito fraction, ncRNAs reported up/down in resistant cells are simulated
    up/down. Same seed, same counts. The AnnData is not annotated; see :func:`mtncrna.tl.annotate`.
    """
    if library not in ("small", "long"):
        raise MtncrnaError(f"unknown library '{library}'; expected small or long")
    ref = reference or load_reference()
    rng = np.random.default_rng(seed)
    design = toy_design(n_replicates)
    f = ref.features
    if library == "small":
        mirs = f[f["rna_class"] == "miRNA"]
        known = list(mirs.index[mirs["n_evidence"] + mirs["n_fractionation"] > 0])
        others = [i for i in mirs.index if i not in set(known)]
        n_other = max(0, n_features - len(known))
        picked = sorted(rng.choice(others, size=min(n_other, len(others)), replace=False))
        ids = known + list(picked)
        names = f.loc[ids, "symbol"].tolist()
        log2_base = rng.normal(6.0, 2.5, size=len(ids)).clip(0, 16)
        mito_lfc, res_lfc = _effects(ref, ids)
    else:
        mt = f[
            f["chrom"].eq("NC_012920.1") & f["rna_class"].isin(["mt-tRNA", "mt-rRNA", "mt-mRNA"])
        ]
        lnc = f[
            (f["rna_class"].isin(["lncRNA", "circRNA"]))
            & (f["chrom"] != "NC_012920.1")
            & f["ensembl_gene_id"].astype(str).str.startswith("ENSG")
        ]
        ids = list(mt.index) + list(lnc.index)
        names = f.loc[ids, "symbol"].tolist()
        base_mt = np.where(f.loc[mt.index, "rna_class"] == "mt-tRNA", 6.0, 11.0)
        log2_base = np.concatenate(
            [base_mt + rng.normal(0, 1, len(mt)), rng.normal(5.0, 1.5, len(lnc))]
        )
        mito_lfc, res_lfc = _effects(ref, ids)
        compartment_lfc = {"mito": 2.0, "cytosol": -1.0, "nucleus": -2.0, "none": 0.0}
        for comp, all_genes in _NUCLEAR_GENES.items():
            genes = [g for g in all_genes if g not in names]
            names += genes
            log2_base = np.concatenate([log2_base, rng.normal(8.0, 2.0, len(genes))])
            mito_lfc = np.concatenate([mito_lfc, np.full(len(genes), compartment_lfc[comp])])
            res_lfc = np.concatenate([res_lfc, np.zeros(len(genes))])
        # a few resistance genes change too (drug efflux, anti-apoptosis)
        for g, lfc in (("ABCB1", 2.0), ("BCL2", 1.0), ("GSTP1", 1.0), ("SLC7A11", 1.2)):
            res_lfc[names.index(g)] = lfc
    counts = _simulate_counts(rng, design, log2_base, mito_lfc, res_lfc)
    obs = design.copy()
    obs["replicate"] = obs["replicate"].astype(str)
    adata = ad.AnnData(X=counts, obs=obs, var=pd.DataFrame(index=pd.Index(names, name="feature")))
    adata.layers["counts"] = counts.copy()
    adata.uns["mtncrna"] = {
        "library": library,
        "format": "toy",
        "toy": {"seed": seed, "n_replicates": n_replicates},
    }
    return adata


def example_dir() -> Path:
    """Folder of the bundled example study (counts tables and sample sheet)."""
    here = Path(__file__).resolve()
    for cand in (here.parents[1] / "_data" / "examples", here.parents[3] / "examples" / "data"):
        if (cand / "samples.csv").is_file():
            return cand
    raise MtncrnaError("bundled example data not found; reinstall mtncrna")


def example(library: str = "small") -> ad.AnnData:
    """Read the bundled example study's ``small`` or ``long`` library with the real readers."""
    from ..io import read_counts

    d = example_dir()
    files = {"small": "small_rna_counts.tsv", "long": "long_rna_counts.tsv"}
    if library not in files:
        raise MtncrnaError(f"unknown library '{library}'; expected small or long")
    return read_counts(d / files[library], d / "samples.csv", library=library)


from ._simulate import Study, simulate_study, study_design, target_pairs  # noqa: E402

__all__ += ["Study", "simulate_study", "study_design", "target_pairs"]
