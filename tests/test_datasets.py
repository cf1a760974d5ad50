"""The seeded study simulator, its toy libraries and the bundled example study."""

from __future__ import annotations

import numpy as np
import pandas as pd

import mtncrna as mt


def test_toy_is_deterministic():
    a = mt.datasets.toy("small", seed=3)
    b = mt.datasets.toy("small", seed=3)
    c = mt.datasets.toy("small", seed=4)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)


def test_study_design():
    d = mt.datasets.study_design(3)
    assert d.shape[0] == 24
    assert (d.groupby(["cell_line", "condition", "fraction"]).size() == 3).all()
    assert (d.groupby("pair")["fraction"].nunique() == 2).all()


def test_toy_effects_follow_the_reference():
    a = mt.datasets.toy("small", seed=0)
    mt.tl.annotate(a)
    df = a.to_df()
    res = a.obs["condition"] == "resistant"
    cyt = a.obs["fraction"] == "cytosol"
    lfc = np.log2(df[res & cyt].mean() + 1) - np.log2(df[~res & cyt].mean() + 1)
    assert lfc["hsa-miR-2392"] > 0.5  # up in resistant cells (Fan et al.)
    assert lfc["hsa-miR-5787"] < -0.5  # down in resistant cells
    mito = a.obs["fraction"] == "mito"
    enr = np.log2(df[mito].mean() + 1) - np.log2(df[~mito].mean() + 1)
    known = a.var["mt_class"] == "mitomiR"
    assert enr[known.to_numpy()].median() > enr[~known.to_numpy()].median() + 0.5


def test_example_files_are_the_simulator_output():
    d = mt.datasets.example_dir()
    table = pd.read_csv(d / "small_rna_counts.tsv", sep="\t", index_col=0)
    study = mt.datasets.simulate_study(0)
    np.testing.assert_array_equal(table.T.to_numpy(), study.small.X)
    truth = pd.read_csv(d / "truth_small_rna.tsv", sep="\t", index_col=0)
    pd.testing.assert_series_equal(truth["mito_localised"], study.truth_small["mito_localised"])


def test_example_reads_through_the_readers():
    a = mt.datasets.example("long")
    assert a.n_obs == 24
    assert a.uns["mtncrna"]["library"] == "long"
    assert (a.var["mt_class"] == "mt-tRNA").sum() == 22
