"""Studies that differ from the example: the right analysis, or one line and exit 2.

(Design typos, unmatched libraries, whole-cell references and skipped analyses through
``mtncrna run`` are in test_failures.py.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import mtncrna as mt

EXAMPLE = mt.datasets.example_dir()


def _sheet_with(tmp_path, **columns):
    sheet = pd.read_csv(EXAMPLE / "samples.csv")
    for name, fn in columns.items():
        sheet[name] = [fn(r) for r in sheet.itertuples()]
    path = tmp_path / "samples.csv"
    sheet.to_csv(path, index=False)
    return path


def test_numeric_sheet_column_is_a_covariate_in_the_cli(run_cli, tmp_path):
    """A 0/1/2 dose is one slope, not a 3-level factor; C(dose) makes it a factor."""
    levels = {"CAL-27": 0, "SCC-9": 2}
    sheet = _sheet_with(
        tmp_path,
        dose=lambda r: levels.get(r.cell_line, 1),
        age=lambda r: 40 + 3 * int(r.replicate) + (5 if r.condition == "resistant" else 0),
    )
    counts = EXAMPLE / "small_rna_counts.tsv"
    code, _, err = run_cli(
        "de", counts, "-s", sheet, "--design", "~ age + condition", "--subset",
        "fraction=cytosol", "--contrast", "condition", "resistant", "parental",
        "-o", tmp_path / "cov",
    )  # fmt: skip
    assert code == 0, err
    assert "fitted as numeric covariates" in err or "centre and scale" in err
    de = mt.read_h5ad(tmp_path / "cov" / "de.h5ad")
    assert list(de.uns["de"]["coefficients"]) == ["Intercept", "age", "condition[T.resistant]"]
    assert list(de.uns["de"]["params"]["numeric_variables"]) == ["age"]

    code, _, err = run_cli(
        "de", counts, "-s", sheet, "--design", "~ dose", "--coef", "dose",
        "-o", tmp_path / "slope",
    )  # fmt: skip
    assert code == 0, err
    assert "whole numbers" in err and "C(dose)" in err
    code, _, err = run_cli(
        "de", counts, "-s", sheet, "--design", "~ C(dose)", "--contrast", "dose", "2", "0",
        "-o", tmp_path / "factor",
    )  # fmt: skip
    assert code == 0, err
    t = pd.read_csv(tmp_path / "factor" / "de_dose_2_vs_0.tsv", sep="\t")
    assert len(t) == 368 and np.isfinite(t["log2FoldChange"]).any()


def test_design_term_missing_from_the_sheet_is_named(run_cli, tmp_path):
    code, _, err = run_cli(
        "de", EXAMPLE / "small_rna_counts.tsv", "-s", EXAMPLE / "samples.csv",
        "--design", "~ cell_lin + condition", "--contrast", "condition", "resistant", "parental",
        "-o", tmp_path / "o",
    )  # fmt: skip
    assert code == 2
    assert "cell_lin" in err and "does not have" in err
    assert not (tmp_path / "o").exists()


def test_run_design_term_constant_within_a_fraction_is_said(tmp_path):
    """~ fraction + condition within each fraction: fraction is left out, and the summary says so."""
    import yaml

    cfg = {
        "samples": str(EXAMPLE / "samples.csv"),
        "small": str(EXAMPLE / "small_rna_counts.tsv"),
        "design": "~ fraction + condition",
        "contrasts": [["condition", "resistant", "parental"]],
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = mt.run(path, tmp_path / "out")
    assert "design term 'fraction' left out within small-RNA fraction=mito" in res.summary
    prov = (tmp_path / "out" / "provenance.json").read_text()
    assert "left out within" in prov


def test_run_on_mitoplasts_against_whole_cell(tmp_path):
    """Another fraction pair: mitoplasts (RNase-treated) versus whole cell, taken from the sheet."""
    text = (EXAMPLE / "samples.csv").read_text()
    sheet = tmp_path / "samples.csv"
    sheet.write_text(text.replace(",mito,", ",mitoplast,").replace(",cytosol,", ",whole,"))
    res = mt.run(
        {"samples": str(sheet), "small": str(EXAMPLE / "small_rna_counts.tsv")}, tmp_path / "out"
    )
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert "small_enrichment_mitoplast_vs_whole.tsv" in names, sorted(names)
    assert "purity" in res.summary


def test_run_with_the_study_own_factor_names_gives_the_demo_numbers(tmp_path, demo):
    """A study that calls its groups 'treatment: sensitive / resistant' (not 'condition:
    parental / resistant') gets the same analysis: QC groups, enrichment blocking, the
    interaction's reference level (the contrast's denominator, though 'resistant' sorts first),
    the score's AUC and the integration's design all follow the design, not fixed names."""
    import yaml

    words = {"condition": "treatment", "parental": "sensitive"}

    def renamed(text: str) -> str:
        for a, b in words.items():
            text = text.replace(a, b)
        return text

    sheet = tmp_path / "samples.csv"
    sheet.write_text(renamed((EXAMPLE / "samples.csv").read_text()))
    cfg = {
        "samples": str(sheet),
        "small": str(EXAMPLE / "small_rna_counts.tsv"),
        "long": str(EXAMPLE / "long_rna_counts.tsv"),
        "design": "~ cell_line + treatment",
        "contrasts": [["treatment", "resistant", "sensitive"]],
        "interaction": "treatment",
        "drug": "cisplatin",
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    res = mt.run(path, out)
    assert "integration: " in res.summary, res.summary  # its table is compared below
    theirs = sorted(p.name for p in demo.glob("*.tsv"))
    ours = sorted(p.name for p in out.glob("*.tsv"))
    assert ours == sorted(renamed(n) for n in theirs)
    for name in theirs:
        expected = pd.read_csv(demo / name, sep="\t", keep_default_na=False)
        got = pd.read_csv(out / renamed(name), sep="\t", keep_default_na=False)
        expected.columns = [renamed(c) for c in expected.columns]
        expected = expected.map(lambda v: renamed(v) if isinstance(v, str) else v)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, obj=name)
    small = mt.read_h5ad(out / "small.h5ad")  # written after scoring and integration
    assert list(small.uns["qc"]["params"]["groups"]) == ["cell_line", "treatment"]
    score = small.uns["signature_score"]
    assert (score["group_key"], score["positive"]) == ("treatment", "resistant")
    assert score["auc_in_sample"] > 0.9
    pairs = mt.get.integrate_df(small)
    assert "C(treatment)" in small.uns["integrate"]["params"]["design"]
    assert pairs["de_agreement"].notna().all() and pairs["de_agreement"].dtype == "boolean"
    html = (out / "report.html").read_text()
    assert "resistant vs the other treatment levels" in html


def test_qc_groups_by_the_columns_named(run_cli, tmp_path):
    """mtncrna qc --group: purity and outliers judged within the study's own groups."""
    sheet = tmp_path / "samples.csv"
    sheet.write_text((EXAMPLE / "samples.csv").read_text().replace("condition", "treatment"))
    counts = EXAMPLE / "small_rna_counts.tsv"
    code, _, err = run_cli(
        "qc", counts, "-s", sheet, "--group", "treatment", "--group", "cell_line",
        "-o", tmp_path / "qc",
    )  # fmt: skip
    assert code == 0, err
    qc = mt.read_h5ad(tmp_path / "qc" / "qc.h5ad")
    assert list(qc.uns["qc"]["params"]["groups"]) == ["treatment", "cell_line"]
    code, _, err = run_cli("qc", counts, "-s", sheet, "--group", "treatmnt", "-o", tmp_path / "q2")
    assert code == 2 and "'treatmnt' is not a sample-sheet column" in err
    assert not (tmp_path / "q2").exists()


def test_run_says_a_numbered_batch_is_a_covariate(tmp_path):
    """A batch numbered 1/2 in the design is fitted as a numeric covariate, as in R; the run
    says so where the user looks (summary, report, provenance), and `factors:` makes it the
    group it names: then QC groups samples by it too."""
    import html

    import yaml

    sheet = _sheet_with(tmp_path, batch=lambda r: int(r.batch.removeprefix("day")))
    cfg = {
        "samples": str(sheet),
        "small": str(EXAMPLE / "small_rna_counts.tsv"),
        "design": "~ batch + condition",
        "contrasts": [["condition", "resistant", "parental"]],
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = mt.run(path, tmp_path / "cov")
    said = "design variable 'batch' holds whole numbers: fitted as a numeric covariate"
    assert said in res.summary
    assert said in html.unescape((tmp_path / "cov" / "report.html").read_text())
    assert said in (tmp_path / "cov" / "provenance.json").read_text()
    small = mt.read_h5ad(tmp_path / "cov" / "small.h5ad")
    assert "batch" not in small.uns["qc"]["params"]["groups"]

    path.write_text(yaml.safe_dump({**cfg, "factors": ["batch"]}))
    res = mt.run(path, tmp_path / "fac")
    assert "holds whole numbers" not in res.summary
    assert "holds whole numbers" not in (tmp_path / "fac" / "report.html").read_text()
    small = mt.read_h5ad(tmp_path / "fac" / "small.h5ad")
    assert "batch" in small.uns["qc"]["params"]["groups"]


def test_run_on_long_rna_alone_builds_the_signature_from_it(tmp_path):
    """A study of lncRNAs only (no small-RNA library) still gets its resistance signature,
    from the long-RNA DE results, and a score per sample."""
    res = mt.run(
        {"samples": str(EXAMPLE / "samples.csv"), "long": str(EXAMPLE / "long_rna_counts.tsv")},
        tmp_path / "out",
    )
    assert "long-RNA features" in res.summary and "signature skipped" not in res.summary
    sig = pd.read_csv(tmp_path / "out" / "signature.tsv", sep="\t")
    long_de = pd.read_csv(
        tmp_path / "out" / "long_de_mito_condition_resistant_vs_parental.tsv", sep="\t"
    )
    assert len(sig) and set(sig["feature_id"]) <= set(long_de["feature_id"])
    assert "signature_score" in mt.read_h5ad(tmp_path / "out" / "long.h5ad").obs


def test_run_levels_with_spaces_give_file_safe_names(tmp_path):
    """Levels written as words ('cisplatin resistant') make file-safe names for the DE and the
    interaction tables alike, and the report links the files that exist."""
    text = (EXAMPLE / "samples.csv").read_text()
    sheet = tmp_path / "samples.csv"
    sheet.write_text(
        text.replace(",resistant,", ",cisplatin resistant,").replace(
            ",parental,", ",parental line,"
        )
    )
    out = tmp_path / "out"
    mt.run(
        {
            "samples": str(sheet),
            "small": str(EXAMPLE / "small_rna_counts.tsv"),
            "contrasts": [["condition", "cisplatin resistant", "parental line"]],
        },
        out,
    )
    names = {p.name for p in out.iterdir()}
    assert not [n for n in names if " " in n], names
    assert "small_interaction_condition_cisplatin_resistant.tsv" in names
    assert "small_de_mito_condition_cisplatin_resistant_vs_parental_line.tsv" in names
    html = (out / "report.html").read_text()
    assert 'href="small_interaction_condition_cisplatin_resistant.tsv"' in html


def _salmon_merged(tmp_path):
    """nf-core/rnaseq's salmon.merged.gene_counts.tsv: gene_id + gene_name, estimated counts;
    ids the reference may not know (a newer GENCODE), symbols it does."""
    counts = pd.read_csv(EXAMPLE / "long_rna_counts.tsv", sep="\t", index_col=0)
    est = counts.astype(float) + 0.37
    est.insert(0, "gene_name", counts.index)
    est.index = pd.Index([f"ENSG9{i:010d}.1" for i in range(len(est))], name="gene_id")
    path = tmp_path / "salmon.merged.gene_counts.tsv"
    est.to_csv(path, sep="\t")
    return path, counts


def test_estimated_counts_round_in_every_command_and_in_run(run_cli, tmp_path):
    salmon, counts = _salmon_merged(tmp_path)
    sheet = EXAMPLE / "samples.csv"
    args = ["--design", "~ condition", "--contrast", "condition", "resistant", "parental"]
    code, _, err = run_cli("de", salmon, "-s", sheet, *args, "-o", tmp_path / "no")
    assert code == 2 and "--round" in err and "round: true" in err, err
    code, _, err = run_cli("de", salmon, "-s", sheet, "--round", *args, "-o", tmp_path / "de")
    assert code == 0, err
    de = mt.read_h5ad(tmp_path / "de" / "de.h5ad")
    # rounded as R's round() / tximport's DESeqDataSetFromTximport (x.37 -> x)
    np.testing.assert_array_equal(
        de.layers["counts"].T if "counts" in de.layers else de.X.T,
        counts.loc[de.var["gene_name"], de.obs_names].to_numpy(),
    )
    # ids unknown to the reference, resolved through the table's gene_name column
    assert de.var.loc[de.var["gene_name"] == "MT-TF", "name_match"].iloc[0] == "symbol"
    assert de.var.loc[de.var["gene_name"] == "MT-TF", "mt_class"].iloc[0] == "mt-tRNA"
    code, _, err = run_cli("qc", salmon, "-s", sheet, "--round", "-o", tmp_path / "qc")
    assert code == 0, err
    res = mt.run({"samples": str(sheet), "long": str(salmon), "round": True}, tmp_path / "run")
    assert "long-RNA: 24 samples" in res.summary


def test_subset_takes_the_fraction_synonyms_the_sheet_takes(run_cli, tmp_path):
    counts, sheet = EXAMPLE / "small_rna_counts.tsv", EXAMPLE / "samples.csv"
    args = ["--design", "~ condition", "--contrast", "condition", "resistant", "parental"]
    for word in ("mito", "Mitochondria"):
        code, _, err = run_cli(
            "de", counts, "-s", sheet, *args, "--subset", f"fraction={word}", "-o", tmp_path / word
        )
        assert code == 0, err
    name = "de_condition_resistant_vs_parental.tsv"
    assert (tmp_path / "mito" / name).read_bytes() == (
        tmp_path / "Mitochondria" / name
    ).read_bytes()


def test_deseq2_results_as_r_users_save_them(run_cli, tmp_path):
    """R's write.csv / write.table / results(tidy=TRUE) of a DESeq2 result (made by R,
    tests/data/formats/deseq2_results/make.R) read as the same table: the row names are the
    feature ids."""
    from mtncrna.steps import read_de_table

    folder = Path(__file__).parent / "data" / "formats" / "deseq2_results"
    tidy = read_de_table(folder / "tidy.csv")
    assert len(tidy) == 400 and tidy["feature_id"].iloc[0] == "hsa-let-7a-2-3p"
    for name in ("write_csv.csv", "write_table.txt", "write_table_tab.tsv"):
        t = read_de_table(folder / name)
        pd.testing.assert_frame_equal(t, tidy, check_exact=False, rtol=1e-12)
    code, _, err = run_cli(
        "signature", folder / "write_table.txt", "--alpha", "0.1", "-o", tmp_path / "sig"
    )
    assert code == 0, err


def test_run_pooling_fractions_without_a_fraction_term_is_said(tmp_path):
    res = mt.run(
        {
            "samples": str(EXAMPLE / "samples.csv"),
            "small": str(EXAMPLE / "small_rna_counts.tsv"),
            "de_by_fraction": False,
        },
        tmp_path / "out",
    )
    assert "the DE pools the cytosol, mito libraries as replicates" in res.summary
    res = mt.run(
        {
            "samples": str(EXAMPLE / "samples.csv"),
            "small": str(EXAMPLE / "small_rna_counts.tsv"),
            "de_by_fraction": False,
            "design": "~ fraction + cell_line + condition",
        },
        tmp_path / "with",
    )
    assert "pools" not in res.summary


def test_run_integrates_when_the_long_library_has_one_fraction(tmp_path):
    """Long RNA sequenced from the cytosol only: the integration pairs the cytosol samples, and
    its design leaves out the fraction, constant there (it was skipped for it)."""
    counts = pd.read_csv(EXAMPLE / "long_rna_counts.tsv", sep="\t", index_col=0)
    long = tmp_path / "long_cytosol.tsv"
    counts[[c for c in counts.columns if c.endswith("_cytosol")]].to_csv(long, sep="\t")
    res = mt.run(
        {
            "samples": str(EXAMPLE / "samples.csv"),
            "small": str(EXAMPLE / "small_rna_counts.tsv"),
            "long": str(long),
            "drop_unmatched": True,
        },
        tmp_path / "out",
    )
    assert "integration skipped" not in res.summary, res.summary
    pairs = pd.read_csv(tmp_path / "out" / "mirna_target_pairs.tsv", sep="\t")
    assert len(pairs) and pairs["coupled"].any()
