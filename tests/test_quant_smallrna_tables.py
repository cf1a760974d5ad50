"""quant smallrna without pandas: the result's tables are columns until a DataFrame is asked for,
and write_smallrna writes them itself, byte for byte what pandas writes of the DataFrames."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtncrna import InputError
from mtncrna.io import write_table
from mtncrna.quant import SmallRnaResult, quantify_smallrna, write_smallrna
from mtncrna.quant._mirgff import write_mirgff
from mtncrna.quant._smallrna import ISOMIR_COLUMNS, LOCI_COLUMNS, MT_FRAGMENT_COLUMNS, QC_COLUMNS
from test_quant_smallrna import sim

TSVS = {
    "counts_mature.tsv": ("counts", True),
    "isomirs.tsv": ("isomirs", False),
    "mt_fragments.tsv": ("mt_fragments", False),
    "qc.tsv": ("qc", True),
}


@pytest.fixture(scope="module")
def libraries(tmp_path_factory):
    """Small simulated libraries of each kit (seeded)."""
    d = tmp_path_factory.mktemp("libs")
    out = {}
    for name, kit, seed, n in [
        ("I1", "illumina", 41, 6000),
        ("I2", "illumina", 42, 4000),
        ("I3", "illumina", 43, 3000),
        ("Q1", "qiaseq", 44, 5000),
        ("Q2", "qiaseq", 45, 4000),
        ("N1", "nextflex", 46, 5000),
        ("N2", "nextflex", 47, 4000),
    ]:
        out[name] = d / f"{name}.fastq.gz"
        sim.simulate(out[name], n_reads=n, seed=seed, kit=kit, n_mirnas=50)
    return out


RUNS = {
    "one sample": (["I1"], {}),
    "three samples, two processes": (["I1", "I2", "I3"], {"processes": 2}),
    "one sample split over two processes": (["I2"], {"processes": 2}),
    "qiaseq UMIs": (["Q1", "Q2"], {"kit": "qiaseq"}),
    "nextflex": (["N1", "N2"], {"kit": "nextflex"}),
}


def _pandas_files(result: SmallRnaResult, out: Path) -> Path:
    """The result's files as pandas writes its DataFrames (what write_smallrna wrote before it
    wrote the columns itself)."""
    out.mkdir()
    for file, (name, index) in TSVS.items():
        write_table(getattr(result, name), out / file, index=index)
    samples = [c for c in result.isomirs.columns if c not in ISOMIR_COLUMNS]
    write_mirgff(
        result.isomirs,
        result.isomir_loci,
        samples,
        out / "isomirs.gff3",
        source="miRBasev22",
        tool=f"mtncrna {_version()}",
    )
    return out


def _version() -> str:
    from mtncrna import __version__

    return __version__


@pytest.mark.parametrize("run", list(RUNS))
def test_written_files_are_the_bytes_pandas_writes(libraries, tmp_path, run):
    names, options = RUNS[run]
    result = quantify_smallrna([libraries[n] for n in names], **options)
    assert result._tables is not None and not result._frames  # nothing built yet
    paths = write_smallrna(result, tmp_path / "fast")
    assert not result._frames  # written from the columns, no DataFrame built
    expected = _pandas_files(result, tmp_path / "pandas")
    assert len(result.isomirs) > 100 and len(result.mt_fragments) > 50
    for file in [*TSVS, "isomirs.gff3"]:
        assert (tmp_path / "fast" / file).read_bytes() == (expected / file).read_bytes(), file
    # a result whose DataFrames were built is written from them: the same bytes again
    again = write_smallrna(result, tmp_path / "frames")
    for key, path in paths.items():
        if key != "provenance":
            assert again[key].read_bytes() == path.read_bytes(), key
    prov = json.loads(paths["provenance"].read_text())
    assert [o["path"] for o in prov["outputs"]] == [
        "counts_mature.tsv",
        "isomirs.tsv",
        "isomirs.gff3",
        "mt_fragments.tsv",
        "qc.tsv",
    ]


def test_dataframes_have_the_documented_layout(libraries):
    result = quantify_smallrna([libraries["I1"], libraries["I2"]])
    samples = ["I1", "I2"]
    counts, iso, loci = result.counts, result.isomirs, result.isomir_loci
    frag, qc = result.mt_fragments, result.qc
    assert result.counts is counts  # built once
    assert counts.index.name == "feature" and counts.columns.name is None
    assert list(counts.columns) == samples and (counts.dtypes == np.int64).all()
    assert counts.index.dtype == object and counts.columns.dtype == object
    assert list(iso.columns) == [*ISOMIR_COLUMNS, *samples]
    assert all(dt == np.dtype(object) for dt in iso.dtypes[list(ISOMIR_COLUMNS)])
    assert (iso.dtypes[samples] == np.int64).all()
    assert isinstance(iso.index, pd.RangeIndex) and isinstance(frag.index, pd.RangeIndex)
    assert list(loci.columns) == list(LOCI_COLUMNS) and len(loci) == len(iso)
    assert list(loci.dtypes) == [object, np.int64, np.int64, object, np.int64]
    assert list(frag.columns) == [*MT_FRAGMENT_COLUMNS, *samples]
    assert list(frag.dtypes) == [object] * 5 + [np.int64] * 2 + [object] + [np.int64] * 2
    assert qc.index.name == "sample" and list(qc.index) == samples
    assert list(qc.columns[: len(QC_COLUMNS)]) == list(QC_COLUMNS)
    assert (qc.dtypes == np.int64).all()
    # ordered as documented: isomiRs by miRNA, reads (most first), sequence; fragments by
    # start, strand, end, tail
    key = pd.DataFrame({"m": iso["miRNA"], "n": -iso[samples].sum(axis=1), "r": iso["Read"]})
    assert key.sort_values(["m", "n", "r"]).index.tolist() == list(range(len(iso)))
    order = frag.sort_values(["start", "strand", "end", "tail"], kind="stable").index
    assert order.tolist() == list(range(len(frag)))
    # the counts are the isomiRs per miRNA and the sense mt-tRNA/rRNA fragments per gene
    # (what the pandas code computed before)
    mir = iso.groupby("miRNA", sort=False)[samples].sum()
    sense = frag[(frag["sense"] == "sense") & frag["class"].isin(["mt-tRNA", "mt-rRNA"])]
    per_gene = sense.groupby("gene")[samples].sum()
    expected = pd.concat([mir, per_gene]).reindex(counts.index).fillna(0).astype(np.int64)
    pd.testing.assert_frame_equal(counts, expected, check_names=False)
    assert (counts.loc[mir.index] > 0).any(axis=1).all()


def test_a_changed_dataframe_is_what_is_written(libraries, tmp_path):
    result = quantify_smallrna([libraries["I3"]])
    result.counts.loc["hsa-let-7a-5p", "I3"] = 123456
    result.qc = result.qc.assign(reads_in=7)
    paths = write_smallrna(result, tmp_path / "out")
    written = pd.read_csv(paths["counts_mature"], sep="\t", index_col=0)
    assert written.loc["hsa-let-7a-5p", "I3"] == 123456
    assert (pd.read_csv(paths["qc"], sep="\t", index_col=0)["reads_in"] == 7).all()


def test_names_pandas_would_quote_are_written_by_pandas(libraries, tmp_path):
    """A sample name with a tab or a quote: the tables are written by pandas (quoted)."""
    names = ['ctrl "a"', "trt\tb"]
    result = quantify_smallrna([libraries["I2"], libraries["I3"]], sample_names=names)
    assert result._text("counts") is None and result._text("isomirs") is None
    write_smallrna(result, tmp_path / "out")
    expected = _pandas_files(result, tmp_path / "pandas")
    for file in TSVS:
        assert (tmp_path / "out" / file).read_bytes() == (expected / file).read_bytes(), file
    head = (tmp_path / "out" / "qc.tsv").read_text().splitlines()[1]
    assert head.startswith('"ctrl ""a"""\t')


def test_a_result_made_of_dataframes(libraries, tmp_path):
    made = quantify_smallrna([libraries["I1"]])
    frames = {k: getattr(made, k) for k in ("counts", "isomirs", "mt_fragments", "qc")}
    by_hand = SmallRnaResult(**frames)
    assert by_hand.notes == [] and by_hand.parameters == {} and by_hand.isomir_loci.empty
    with pytest.raises(InputError, match="no isomiR loci"):
        write_smallrna(by_hand, tmp_path / "no_loci")
    whole = SmallRnaResult(
        *frames.values(), made.parameters, made.inputs, made.notes, made.isomir_loci
    )
    paths = write_smallrna(whole, tmp_path / "out")
    fast = write_smallrna(quantify_smallrna([libraries["I1"]]), tmp_path / "fast")
    for key in ("counts_mature", "isomirs", "isomirs_gff", "mt_fragments", "qc"):
        assert paths[key].read_bytes() == fast[key].read_bytes(), key


def test_quantify_and_write_do_not_import_pandas(libraries, tmp_path, monkeypatch):
    """A run that writes the files (the Python API, as the benchmark runs it) never imports
    pandas: ~0.5 s of a few-second run."""
    from mtncrna.quant import _smallrna_reference as sr

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    sr._cached_bundled()  # the reference cache a run reads (building it needs pandas)
    script = textwrap.dedent(
        """
        import sys
        from mtncrna.quant import quantify_smallrna, write_smallrna
        for processes in (1, 2):
            r = quantify_smallrna([sys.argv[1]], kit="illumina", processes=processes)
            write_smallrna(r, sys.argv[2] + str(processes))
        assert "pandas" not in sys.modules, "pandas was imported"
        r.counts  # the DataFrames are there when asked for
        assert "pandas" in sys.modules
        """
    )
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-c", script, str(libraries["I1"]), str(out)], check=True, timeout=600
    )
    assert (tmp_path / "out1" / "counts_mature.tsv").read_bytes() == (
        tmp_path / "out2" / "counts_mature.tsv"
    ).read_bytes()
    # the provenance names the libraries that ran, with their versions, and not pandas
    versions = json.loads((tmp_path / "out2" / "provenance.json").read_text())["versions"]
    assert set(versions) == {"mtncrna", "python", "numpy", "numba", "llvmlite"} | {
        "cutadapt",
        "dnaio",
        "xopen",
        "isal",
    }
    from importlib.metadata import version

    assert versions["cutadapt"] == version("cutadapt") and versions["numba"] == version("numba")


def test_provenance_names_pandas_when_it_ran(libraries, tmp_path):
    result = quantify_smallrna([libraries["I3"]])
    result.qc  # noqa: B018 - pandas is loaded in this process
    paths = write_smallrna(result, tmp_path / "out")
    versions = json.loads(paths["provenance"].read_text())["versions"]
    assert versions["pandas"] == pd.__version__ and "cutadapt" in versions


def test_cli_quant_smallrna_imports_neither_pandas_nor_anndata(libraries, tmp_path, monkeypatch):
    """The command (what users and the workflow run) writes the MultiQC files from the counters
    without building the DataFrames: no pandas, no anndata (~1.4 s of a few-second run)."""
    from mtncrna.quant import _smallrna_reference as sr

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    sr._cached_bundled()
    script = textwrap.dedent(
        """
        import sys
        from mtncrna.cli import main
        try:
            main(["quant", "smallrna", "-p", "2", "-o", sys.argv[2], sys.argv[1]])
        except SystemExit as exc:
            assert not exc.code, exc.code
        assert "pandas" not in sys.modules and "anndata" not in sys.modules, "imported"
        """
    )
    out = tmp_path / "cli"
    subprocess.run(
        [sys.executable, "-c", script, str(libraries["I1"]), str(out)], check=True, timeout=600
    )
    assert {"mtncrna_reads_mqc.yaml", "mtncrna_lengths_mqc.yaml"} <= {p.name for p in out.iterdir()}


@pytest.mark.parametrize("run", ["one sample", "qiaseq UMIs", "three samples, two processes"])
def test_multiqc_read_qc_from_counters_is_from_the_dataframe(libraries, run):
    from mtncrna.report import multiqc_read_qc

    names, options = RUNS[run]
    result = quantify_smallrna([libraries[n] for n in names], **options)
    from_rows = multiqc_read_qc(result.qc_rows())
    assert "pandas" in sys.modules  # (this test module imports it) the frame is built next
    assert from_rows == multiqc_read_qc(result.qc)
    assert from_rows == multiqc_read_qc(result.qc.reset_index().rename(columns={"index": "sample"}))
    assert "mtncrna_lengths_mqc.yaml" in from_rows
