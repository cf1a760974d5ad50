"""Small-RNA quantification from FASTQ: accuracy on simulated reads, hand-built cases, outputs,
custom references and clear errors for bad input."""

from __future__ import annotations

import gzip
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mtncrna as mt
from mtncrna import InputError
from mtncrna.quant import KITS, quantify_smallrna, write_smallrna
from mtncrna.quant._smallrna_assign import MirnaCall
from mtncrna.quant._smallrna_reference import bundled_reference, revcomp

ROOT = Path(__file__).resolve().parents[1]
TRUSEQ = KITS["illumina"].adapter
QIASEQ = KITS["qiaseq"].adapter
DOWNSTREAM = "AACTCCAGTCACATCACGATCTCGTATGCC"


def _load_simulator():
    spec = importlib.util.spec_from_file_location(
        "simulate_smallrna", ROOT / "benchmarks" / "simulate_smallrna.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["simulate_smallrna"] = module
    spec.loader.exec_module(module)
    return module


sim = _load_simulator()


def fastq(path: Path, reads: list[str], *, gz: bool = False) -> Path:
    text = "".join(f"@r{i}\n{s}\n+\n{'F' * len(s)}\n" for i, s in enumerate(reads, 1))
    data = text.encode()
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def read_for(insert: str, adapter: str = TRUSEQ, length: int = 50) -> str:
    return (insert + adapter + DOWNSTREAM)[:length]


@pytest.fixture(scope="module")
def ref():
    return bundled_reference()


def mature(ref, name: str) -> tuple[str, str, int, int]:
    """(hairpin sequence, mature sequence, start, end) of the first site of ``name``."""
    for n, h, s, e in ref.sites:
        if n == name:
            hp = ref.hairpins[h]
            return hp, hp[s:e], s, e
    raise KeyError(name)


# ------------------------------------------------------------------ simulated sample vs truth


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim")
    fq = d / "simA.fastq.gz"
    truth = sim.simulate(fq, n_reads=30_000, seed=11, kit="illumina", n_mirnas=150)
    result = quantify_smallrna([fq])
    return fq, truth, result


def test_simulated_counts_match_truth(simulated):
    _, truth, result = simulated
    s = sim.score(result.counts["simA"], truth)
    assert s["miRNA recovered"] >= 0.96, s
    assert s["mt-tRNA recovered"] >= 0.95, s
    assert s["mt-rRNA recovered"] >= 0.95, s
    assert s["miRNA false"] < 0.01 and s["mt-tRNA false"] < 0.01, s


def test_simulated_qc_matches_truth(simulated):
    _, truth, result = simulated
    qc = result.qc.loc["simA"]
    by_cat = truth.groupby("category")["reads"].sum()
    assert qc["reads_in"] == 30_000
    # a sequencing error may change a length class now and then, nothing more
    assert abs(qc["adapter_dimer"] - by_cat["dimer"]) <= 0.01 * by_cat["dimer"] + 2
    assert abs(qc["too_short"] - by_cat["too_short"]) <= 0.02 * by_cat["too_short"] + 2
    assert abs(qc["too_long"] - by_cat["too_long"]) <= 0.02 * by_cat["too_long"] + 2
    assert qc["unassigned"] >= by_cat["other"]
    assert qc["unassigned"] <= by_cat["other"] * 1.05 + 20
    parts = ["adapter_dimer", "too_short", "too_long", "umi_missing", "passed"]
    assert qc[parts].sum() == qc["reads_in"]
    cats = ["mirna", "mt_trna", "mt_rrna", "mt_other", "unassigned"]
    assert qc[cats].sum() == qc["passed"]
    lens = [c for c in result.qc.columns if c.startswith("len_")]
    assert lens[0] == "len_16" and lens[-1] == "len_45"
    assert qc[lens].sum() == qc["passed"]


def test_outputs_load_with_read_counts(simulated, tmp_path):
    _, _, result = simulated
    paths = write_smallrna(result, tmp_path / "out")
    assert sorted(p.name for p in paths.values()) == [
        "counts_mature.tsv",
        "isomirs.gff3",
        "isomirs.tsv",
        "mt_fragments.tsv",
        "provenance.json",
        "qc.tsv",
    ]
    adata = mt.read_counts(paths["counts_mature"], annotate=False)
    assert adata.uns["mtncrna"]["library"] == "small"
    assert list(adata.obs_names) == ["simA"]
    got = pd.Series(adata.X[0], index=adata.var_names)
    pd.testing.assert_series_equal(
        got, result.counts["simA"].rename(None), check_names=False, check_index_type=False
    )
    # the isomiR table is mirtop's layout: read_counts sums it per miRNA
    iso = mt.read_counts(paths["isomirs"], annotate=False)
    per_mirna = pd.Series(iso.X[0], index=iso.var_names)
    expected = result.counts["simA"].reindex(per_mirna.index)
    assert (per_mirna.to_numpy() == expected.to_numpy()).all()
    frags = mt.read_counts(paths["mt_fragments"], annotate=False)
    assert frags.X.sum() == result.mt_fragments["simA"].sum()
    # the reference annotation resolves the features (miRNAs and mt genes)
    ann = mt.read_counts(paths["counts_mature"])
    assert ann.var.loc["MT-TF", "mt_class"] == "mt-tRNA"
    # the provenance names the FASTQ with its sha256 (taken while the run worked)
    import hashlib
    import json

    prov = json.loads(paths["provenance"].read_text())
    fq = result.inputs[0][1]
    text = json.dumps(prov)
    assert hashlib.sha256(Path(fq).read_bytes()).hexdigest() in text
    # never over an input
    guarded = tmp_path / "guarded"
    guarded.mkdir()
    (guarded / "qc.tsv").write_text("precious\n")
    with pytest.raises(mt.OutputError):
        write_smallrna(result, guarded, inputs=[guarded / "qc.tsv"])
    assert (guarded / "qc.tsv").read_text() == "precious\n"


# ------------------------------------------------------------------------ hand-built reads


@pytest.fixture(scope="module")
def hand(ref, tmp_path_factory):
    """One FASTQ of hand-built reads; each case has its own count so it can be told apart."""
    d = tmp_path_factory.mktemp("hand")
    g = ref.mt_genome
    _, let7, _, _ = mature(ref, "hsa-let-7a-5p")
    hp21, mir21, s21, e21 = mature(ref, "hsa-miR-21-5p")
    assert hp21[e21] != "A"  # so a 3' A cannot be templated
    tf = g[576:647]  # MT-TF, + strand
    te = revcomp(g[14673:14742])  # MT-TE, - strand
    cases = {
        "let7": (read_for(let7), 5),
        "mir21_addA": (read_for(mir21 + "A"), 4),
        "mir21_up1": (read_for(hp21[s21 - 1 : e21]), 3),
        "mir21_snv": (read_for(mir21[:10] + ("A" if mir21[10] != "A" else "C") + mir21[11:]), 2),
        "tf_cca": (read_for(tf[33:] + "CCA"), 6),
        "te_cca": (read_for(te[36:] + "CCA"), 7),
        "te_cc": (read_for(te[36:] + "CC"), 1),
        "dimer": (read_for(""), 8),
        "short": (read_for("ACGTACGTAC"), 9),
        "r199": (read_for(mature(ref, "hsa-miR-199a-3p")[1]), 10),
        "random": (read_for("GATTACAGATTACAGATTACAGATT"), 11),
    }
    reads = [s for s, n in cases.values() for _ in range(n)]
    fq = fastq(d / "hand.fastq", reads)
    return cases, quantify_smallrna({"H": fq})


def test_truseq_read_counts_for_its_mirna(hand):
    _, res = hand
    assert res.counts.loc["hsa-let-7a-5p", "H"] == 5
    row = res.isomirs[res.isomirs["miRNA"] == "hsa-let-7a-5p"]
    assert list(row["Variant"]) == ["NA"]
    assert list(row["Read"]) == ["TGAGGTAGTAGGTTGTATAGTT"]


def test_isomir_variants_follow_mirtop(hand, ref):
    _, res = hand
    iso = res.isomirs[res.isomirs["miRNA"] == "hsa-miR-21-5p"].set_index("Variant")
    assert res.counts.loc["hsa-miR-21-5p", "H"] == 4 + 3 + 2
    add = iso.loc["iso_add3p:1"]
    assert add["H"] == 4 and add["iso_add3p"] == "1" and add["iso_add3p_nt"] == "A"
    up = iso.loc["iso_5p:-1"]  # starts 1 nt upstream of the mature start
    assert up["H"] == 3 and up["iso_5p"] == "-1" and up["iso_5p_nt"].isupper()
    snv = iso.loc["iso_snv_central"]  # position 11 of the read
    assert snv["H"] == 2 and snv["iso_snp"] == "1" and snv["iso_snp_nt"].startswith("11")
    assert all(u.startswith("mtn-") for u in res.isomirs["UID"])


def test_cca_tailed_trna_fragments(hand):
    _, res = hand
    assert res.counts.loc["MT-TF", "H"] == 6
    assert res.counts.loc["MT-TE", "H"] == 7 + 1
    fr = res.mt_fragments.set_index("fragment")
    tf = fr.loc["MT-TF:+:610-647:CCA"]
    assert tf["H"] == 6 and tf["class"] == "mt-tRNA" and tf["sense"] == "sense"
    te = fr[(fr["gene"] == "MT-TE")]
    assert set(te["strand"]) == {"-"} and set(te["tail"]) == {"CCA", "CC"}
    assert (te["start"] == 14674).all()  # the tRNA 3' end of a - strand gene is its start
    assert res.qc.loc["H", "mt_trna"] == 14


def test_dimers_short_ambiguous_and_unassigned(hand):
    _, res = hand
    qc = res.qc.loc["H"]
    assert qc["adapter_dimer"] == 8
    assert qc["too_short"] == 9
    assert qc["unassigned"] == 11
    # identical mature sequences are one ambiguous feature, not split
    assert res.counts.loc["hsa-miR-199a-3p/hsa-miR-199b-3p", "H"] == 10
    assert res.counts.loc["hsa-miR-199a-3p", "H"] == 0
    assert qc["mirna_ambiguous"] == 10
    assert qc["with_adapter"] == qc["reads_in"]


def test_nextflex_random_bases_are_removed(ref, tmp_path):
    _, mir21, _, _ = mature(ref, "hsa-miR-21-5p")
    reads = [read_for("ACGT" + mir21 + "TTGC"), read_for("GGCA" + mir21 + "CATG"), read_for("TTTT")]
    fq = fastq(tmp_path / "nf.fastq.gz", reads, gz=True)
    nf = quantify_smallrna([fq], kit="nextflex")
    assert nf.counts.loc["hsa-miR-21-5p", "nf"] == 2
    assert nf.qc.loc["nf", "adapter_dimer"] == 1  # 4 + 0 + ... random bases only
    assert nf.isomirs["Variant"].tolist() == ["NA"]
    plain = quantify_smallrna([fq], kit="illumina")
    assert plain.counts.loc["hsa-miR-21-5p", "nf"] == 0


def test_qiaseq_umis_count_molecules(ref, tmp_path):
    _, let7, _, _ = mature(ref, "hsa-let-7a-5p")
    umi1, umi2 = "ACGTACGTACGT", "TTTTGGGGCCCC"
    rest = "AGATCGGAAGAGCACACGTCTGAACTCCAGTCAC"
    reads = [(let7 + QIASEQ + u + rest)[:75] for u in (umi1, umi1, umi1, umi2)]
    reads.append((let7 + QIASEQ + "ACG")[:75])  # UMI cut short by the read end
    err = let7[:5] + ("A" if let7[5] != "A" else "C") + let7[6:]  # one read of molecule 1
    reads.append((err + QIASEQ + umi1 + rest)[:75])  # with a sequencing error in the insert
    reads.append((err + QIASEQ + "GGGGGGAAAAAA" + rest)[:75])  # its own molecule
    fq = fastq(tmp_path / "q.fastq", reads)
    res = quantify_smallrna([fq], kit="qiaseq")
    assert res.counts.loc["hsa-let-7a-5p", "q"] == 3
    assert res.qc.loc["q", "umi_missing"] == 1
    assert res.qc.loc["q", "molecules"] == 3 and res.qc.loc["q", "passed"] == 6
    iso = res.isomirs.set_index("Read")["q"]
    assert iso[let7] == 2 and iso[err] == 1  # a molecule goes to its most-read insert
    reads_only = quantify_smallrna([fq], kit="qiaseq", umi=False)
    assert reads_only.counts.loc["hsa-let-7a-5p", "q"] == 7


def test_user_adapter_and_mismatches_off(ref, tmp_path):
    _, mir21, _, _ = mature(ref, "hsa-miR-21-5p")
    snv = mir21[:10] + ("A" if mir21[10] != "A" else "C") + mir21[11:]
    adapter = "AGATCGGAAGAGC"
    fq = fastq(tmp_path / "u.fastq", [(mir21 + adapter + "T" * 30)[:50], (snv + adapter)[:50]])
    res = quantify_smallrna([fq], adapter=adapter)
    assert res.counts.loc["hsa-miR-21-5p", "u"] == 2
    exact = quantify_smallrna([fq], adapter=adapter, mismatches=0)
    assert exact.counts.loc["hsa-miR-21-5p", "u"] == 1


# ------------------------------------------------------------------ parallel = serial


def test_processes_give_the_same_counts(tmp_path):
    a = tmp_path / "P1.fastq.gz"
    b = tmp_path / "P2.fastq.gz"
    sim.simulate(a, n_reads=5_000, seed=1, n_mirnas=60)
    sim.simulate(b, n_reads=5_000, seed=2, n_mirnas=60)
    serial = quantify_smallrna([a, b])
    parallel = quantify_smallrna([a, b], processes=2)
    split = quantify_smallrna([a], processes=2)  # one sample, its reads split over 2 processes
    pd.testing.assert_frame_equal(serial.counts, parallel.counts)
    pd.testing.assert_frame_equal(serial.qc, parallel.qc)
    pd.testing.assert_frame_equal(serial.isomirs, parallel.isomirs)
    pd.testing.assert_frame_equal(serial.mt_fragments, parallel.mt_fragments)
    one = quantify_smallrna([a])
    pd.testing.assert_frame_equal(one.counts, split.counts)
    pd.testing.assert_frame_equal(one.qc, split.qc)
    pd.testing.assert_frame_equal(one.isomirs, split.isomirs)
    pd.testing.assert_frame_equal(one.isomir_loci, split.isomir_loci)
    pd.testing.assert_frame_equal(one.mt_fragments, split.mt_fragments)
    # fewer samples than processes: each split in turn, later ones meeting cached calls
    c = tmp_path / "P3.fastq.gz"
    sim.simulate(c, n_reads=3_000, seed=3, n_mirnas=60)
    three = quantify_smallrna([a, b, c])
    over4 = quantify_smallrna([a, b, c], processes=4)
    for name in ("counts", "qc", "isomirs", "isomir_loci", "mt_fragments"):
        pd.testing.assert_frame_equal(getattr(three, name), getattr(over4, name))


def test_split_sample_counts_reads_extending_hairpinless_matures(simulated, ref, tmp_path):
    """unassigned_mature_ext is summed over the slices of a split sample as counted whole."""
    fq, truth, _ = simulated
    names = sorted(set(truth.loc[truth["category"] == "miRNA", "feature"]))
    mat, _ = _mature_and_hairpin_fasta(ref, names, tmp_path)
    one = quantify_smallrna([fq], mature=mat)
    split = quantify_smallrna([fq], mature=mat, processes=2)
    assert one.qc.loc["simA", "unassigned_mature_ext"] > 100
    pd.testing.assert_frame_equal(one.qc, split.qc)
    pd.testing.assert_frame_equal(one.counts, split.counts)
    pd.testing.assert_frame_equal(one.isomirs, split.isomirs)


@pytest.mark.parametrize("processes", [1, 2])
def test_bad_record_deep_in_a_file_names_its_line(tmp_path, processes):
    reads = [read_for("ACGTTGCA" * 3)] * 3000
    text = "".join(f"@r{i}\n{s}\n+\n{'F' * len(s)}\n" for i, s in enumerate(reads, 1))
    lines = text.splitlines(keepends=True)
    lines[4 * 2500 + 3] = "FFF\n"  # quality of record 2501 too short
    p = tmp_path / "deep.fastq.gz"
    p.write_bytes(gzip.compress("".join(lines).encode()))
    with pytest.raises(InputError, match="qualities") as e:
        quantify_smallrna([p], processes=processes)
    assert e.value.line == 4 * 2500 + 4


# ------------------------------------------------------------------ custom reference


def test_custom_reference_fasta_gtf_and_bed(tmp_path):
    import numpy as np

    rng = np.random.default_rng(5)
    rand = lambda n: "".join(rng.choice(list("ACGT"), n))  # noqa: E731
    hairpin = rand(20) + "UGAGGUAGUAGGUUGUAUAGUU".replace("U", "T") + rand(40)
    mat = hairpin[20:42]
    (tmp_path / "hairpin.fa").write_text(f">xyz-mir-1 MI1\n{hairpin[:40]}\n{hairpin[40:]}\n")
    (tmp_path / "mature.fa").write_text(f">xyz-miR-1-5p MIMAT1\n{mat.replace('T', 'U')}\n")
    genome = rand(3000)
    (tmp_path / "mt.fa").write_text(">chrM test\n" + genome + "\n")
    (tmp_path / "mt.gtf").write_text(
        'chrM\tx\tgene\t101\t170\t.\t+\t.\tgene_id "G1"; gene_name "MT-TX"; gene_biotype "Mt_tRNA";\n'
        'chrM\tx\tgene\t201\t1200\t.\t-\t.\tgene_id "G2"; gene_name "MT-RNRX"; gene_biotype "Mt_rRNA";\n'
        'chr1\tx\tgene\t1\t100\t.\t+\t.\tgene_id "G3"; gene_name "OTHER";\n'
    )
    (tmp_path / "mt_exons.gtf").write_text(  # UCSC style: exon lines only, gene_id = name
        'chrM\tx\texon\t101\t170\t.\t+\t.\tgene_id "MT-TX"; transcript_id "T1";\n'
        'chrM\tx\texon\t201\t700\t.\t-\t.\tgene_id "MT-RNRX"; transcript_id "T2";\n'
        'chrM\tx\texon\t701\t1200\t.\t-\t.\tgene_id "MT-RNRX"; transcript_id "T2";\n'
    )
    (tmp_path / "mt.bed").write_text(
        "chrM\t100\t170\tMT-TX\t0\t+\nchrM\t200\t1200\tMT-RNRX\t0\t-\n"
    )
    (tmp_path / "mt.gff3").write_text(  # Ensembl style: ncRNA_gene lines, biotype=
        "##gff-version 3\n"
        "chrM\tx\tncRNA_gene\t101\t170\t.\t+\t.\tID=gene:G1;Name=MT-TX;biotype=Mt_tRNA\n"
        "chrM\tx\ttRNA\t101\t170\t.\t+\t.\tID=transcript:T1;Parent=gene:G1\n"
        "chrM\tx\tncRNA_gene\t201\t1200\t.\t-\t.\tID=gene:G2;Name=MT-RNRX;biotype=Mt_rRNA\n"
        "chrM\tx\tgene\t1300\t2000\t.\t+\t.\tID=gene:G3;Name=MT-NDX;biotype=protein_coding\n"
    )
    trna_3p = genome[135:170] + "CCA"
    rrna = revcomp(genome[500:530])
    reads = [read_for(mat)] * 3 + [read_for(mat[:-1] + "AA")] * 2 + [read_for(trna_3p)] * 4
    reads += [read_for(rrna)] * 5
    fq = fastq(tmp_path / "c.fastq", reads)
    for ann in ("mt.gtf", "mt_exons.gtf", "mt.bed", "mt.gff3"):
        res = quantify_smallrna(
            [fq],
            mature=tmp_path / "mature.fa",
            hairpin=tmp_path / "hairpin.fa",
            mt_genome=tmp_path / "mt.fa",
            mt_annotation=tmp_path / ann,
        )
        c = res.counts["c"]
        assert list(c.index) == ["xyz-miR-1-5p", "MT-TX", "MT-RNRX"]
        assert c.tolist() == [5, 4, 5], ann
        assert "iso_3p:-1,iso_add3p:2" in set(res.isomirs["Variant"])
        assert res.mt_fragments.set_index("gene").loc["MT-TX", "tail"] == "CCA"
    # mature only (no hairpin): the mature is its own template
    alone = quantify_smallrna([fq], mature=tmp_path / "mature.fa")
    assert alone.counts.loc["xyz-miR-1-5p", "c"] == 5


def test_custom_reference_errors(tmp_path):
    fq = fastq(tmp_path / "x.fastq", [read_for("A" * 20)])
    bad = tmp_path / "bad.fa"
    bad.write_text(">m1\nACGU\nACXZ\n")
    with pytest.raises(InputError) as e:
        quantify_smallrna([fq], mature=bad)
    assert e.value.line == 3 and "'X'" in str(e.value)
    nohead = tmp_path / "nohead.fa"
    nohead.write_text("ACGT\n")
    with pytest.raises(InputError, match="header") as e:
        quantify_smallrna([fq], mature=nohead)
    assert e.value.line == 1
    (tmp_path / "mt.fa").write_text(">chrM\n" + "ACGT" * 100 + "\n")
    with pytest.raises(InputError, match="together"):
        quantify_smallrna([fq], mt_genome=tmp_path / "mt.fa")
    gtf = tmp_path / "mt.gtf"
    gtf.write_text('chrM\tx\tgene\t101\t900\t.\t+\t.\tgene_id "G1"; gene_name "MT-TX";\n')
    with pytest.raises(InputError, match="MT-TX at 101-900 is outside the 400-bp"):
        quantify_smallrna([fq], mt_genome=tmp_path / "mt.fa", mt_annotation=gtf)
    # the shared annotation reader's line-level errors reach the user as they are
    gtf.write_text(
        'chrM\tx\tgene\t101\t200\t.\t+\t.\tgene_id "G1";\n'
        'chrM\tx\tgene\t301\t20x\t.\t+\t.\tgene_id "G2";\n'
    )
    with pytest.raises(InputError, match="whole numbers") as e:
        quantify_smallrna([fq], mt_genome=tmp_path / "mt.fa", mt_annotation=gtf)
    assert e.value.line == 2
    gtf.write_text('chrM\tx\tgene\t101\t200\t.\t+\t.\tgene_name "MT-TX";\n')
    with pytest.raises(InputError, match="gene_id") as e:
        quantify_smallrna([fq], mt_genome=tmp_path / "mt.fa", mt_annotation=gtf)
    assert e.value.line == 1
    gtf.write_text('chr1\tx\tgene\t101\t200\t.\t+\t.\tgene_id "G1";\n')
    with pytest.raises(InputError, match=r"no annotation rows on the mt genome 'chrM'.*chr1"):
        quantify_smallrna([fq], mt_genome=tmp_path / "mt.fa", mt_annotation=gtf)


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("@r1\nACGT\n+\nFFFF\nr2\nACGT\n+\nFFFF\n", 5, "'@'"),
        ("@r1\nACGT\n+\nFFF\n", 4, "qualities"),
        ("@r1\nACGT\n-\nFFFF\n", 3, "'\\+'"),
        ("@r1\nACGT\n+\nFFFF\n@r2\nACGT\n", 7, "end of file"),
        ("@r1\nACGT\n+\nFFFF\n@r2\nAC.T\n+\nFFFF\n", 6, "'.'"),
        (">r1\nACGT\n", 1, "FASTA"),
    ],
)
def test_malformed_fastq_names_the_line(tmp_path, text, line, match):
    p = tmp_path / "bad.fastq"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as e:
        quantify_smallrna([p])
    assert e.value.line == line
    assert str(p) in str(e.value)


@pytest.mark.parametrize("processes", [1, 2])
def test_truncated_gzip_is_a_clear_error(tmp_path, processes):
    import numpy as np

    rng = np.random.default_rng(0)  # random inserts, so that the gzip stream is long
    reads = [read_for("".join(rng.choice(list("ACGT"), 25))) for _ in range(30_000)]
    good = fastq(tmp_path / "good.fastq.gz", reads, gz=True)
    cut = tmp_path / "cut.fastq.gz"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(InputError, match="truncated") as e:
        quantify_smallrna([cut], processes=processes)
    assert e.value.line is not None and e.value.line % 4 == 1 and e.value.line > 1000


def test_small_truncated_gzip_names_the_line_after_its_last_record(tmp_path):
    """A cut file smaller than the reader's buffer: the error names the line after the last
    complete record (it said 'line 1, after 0 complete records')."""
    import zlib

    import numpy as np

    rng = np.random.default_rng(1)
    reads = [read_for("".join(rng.choice(list("ACGT"), 25))) for _ in range(3_000)]
    good = fastq(tmp_path / "good.fastq.gz", reads, gz=True)
    data = good.read_bytes()[: len(good.read_bytes()) * 2 // 5]
    cut = tmp_path / "cut.fastq.gz"
    cut.write_bytes(data)
    text = zlib.decompressobj(wbits=31).decompress(data)  # what can be read before the cut
    complete = text.count(b"\n") // 4
    with pytest.raises(InputError, match=f"after {complete:,} complete records") as e:
        quantify_smallrna([cut])
    assert complete > 100 and e.value.line == 4 * complete + 1


def test_bad_parameters(tmp_path):
    fq = fastq(tmp_path / "p.fastq", [read_for("A" * 20)])
    with pytest.raises(InputError, match="unknown kit"):
        quantify_smallrna([fq], kit="truseq")
    with pytest.raises(InputError, match="no UMI"):
        quantify_smallrna([fq], umi=True)
    with pytest.raises(InputError, match="not a DNA sequence"):
        quantify_smallrna([fq], adapter="TGG!AA")
    with pytest.raises(InputError, match="min_length"):
        quantify_smallrna([fq], min_length=30, max_length=20)
    with pytest.raises(InputError, match="also that of"):
        quantify_smallrna([fq, tmp_path / "p.fq"])
    with pytest.raises(InputError, match="not found"):
        quantify_smallrna([tmp_path / "missing.fastq"])


def test_empty_fastq_is_a_clear_error(tmp_path):
    p = tmp_path / "empty.fastq"
    p.write_text("")
    with pytest.raises(InputError, match="no reads") as e:
        quantify_smallrna([p])
    assert str(p) in str(e.value)


def test_simulator_is_seeded(tmp_path):
    a = sim.simulate(tmp_path / "a.fastq", n_reads=2_000, seed=3, n_mirnas=20)
    b = sim.simulate(tmp_path / "b.fastq", n_reads=2_000, seed=3, n_mirnas=20)
    assert (tmp_path / "a.fastq").read_bytes() == (tmp_path / "b.fastq").read_bytes()
    pd.testing.assert_frame_equal(a, b)
    assert a["reads"].sum() == 2_000


def test_adapter_fast_path_is_cutadapts_match(simulated):
    import dnaio

    from mtncrna.quant._collapse import adapter_locator, make_adapter

    fq, _, _ = simulated
    with dnaio.open(fq, fileformat="fastq") as reader:
        seqs = {rec.sequence for rec in reader}
    for adapter in (TRUSEQ, QIASEQ):
        fast = adapter_locator(adapter)
        match_to = make_adapter(adapter).match_to
        for s in seqs:
            m = match_to(s)
            assert fast(s) == (None if m is None else (m.rstart, m.rstop))


@pytest.mark.parametrize("block", [64, 1 << 20])
def test_compiled_collapse_and_trim_equal_the_reference_reader(simulated, tmp_path, block):
    """The compiled collapse (FASTQ bytes -> distinct reads, records cut across blocks) and trim
    give exactly dnaio + Counter and :func:`trim_uniques`, for every kit and in slices."""
    from mtncrna.quant import _collapse_kernel
    from mtncrna.quant._collapse import (
        Kit,
        collapse,
        collapse_distinct,
        merge_parts,
        trim_distinct,
        trim_uniques,
    )

    fq, _, _ = simulated
    mp = pytest.MonkeyPatch()
    mp.setattr(_collapse_kernel, "BLOCK", block)
    try:
        fast = collapse_distinct(fq, threads=0)
    finally:
        mp.undo()
    counts, n_reads = collapse(fq)
    assert fast.n_reads == n_reads == 30_000
    assert list(zip(fast.sequences(), fast.count.tolist(), strict=True)) == list(counts.items())
    kits = [*(KITS[k] for k in ("illumina", "nextflex")), Kit("none", None)]
    kits.append(Kit("other", "TGGAATTCTCGG", random_5p=2, random_3p=1))
    for kit in kits:
        for lo, hi in ((16, 45), (1, 60)):
            want = trim_uniques(counts.items(), kit, min_length=lo, max_length=hi, umi=False)
            got = trim_distinct(fast, kit, min_length=lo, max_length=hi, umi=False)
            assert (got.counts, got.qc, got.lengths) == (want.counts, want.qc, want.lengths)
            parts = [
                trim_distinct(fast, kit, min_length=lo, max_length=hi, umi=False, part=i, parts=3)
                for i in range(3)
            ]
            c, qc, lengths, _ = merge_parts(parts)
            assert (c, qc, lengths) == (want.counts, want.qc, want.lengths)


@pytest.mark.parametrize(
    "text",
    [
        "@r1\nACGT\n+\nFFFF\n@r2\nACGT\n+\nFFFF",  # no line end at the end
        "@r1\nACGT\n+r1\nFFFF\n@r2\nacgt\n+\nFFFF\n",  # '+name', lower case
        "@r1\r\nACGT\r\n+\r\nFFFF\r\n@r2\r\nACGT\r\n+\r\nFFFF\r\n",  # Windows
        "@r1\n\n+\n\n@r2\nACGT\n+\nFFFF\n",  # an empty read
    ],
)
def test_compiled_collapse_takes_what_dnaio_takes(tmp_path, text):
    from mtncrna.quant._collapse import collapse, collapse_distinct

    p = tmp_path / "odd.fastq"
    p.write_bytes(text.encode())
    fast = collapse_distinct(p)
    counts, n = collapse(p)
    assert fast.n_reads == n == 2
    assert dict(zip(fast.sequences(), fast.count.tolist(), strict=True)) == dict(counts)


def test_compiled_collapse_grows_its_tables_mid_block():
    """More distinct reads than the first table holds, and long reads that outgrow the first
    arena, in blocks that cut records: every distinct read once, counted, in first-seen order."""
    import io
    from collections import Counter

    from mtncrna.quant import _collapse_kernel
    from mtncrna.quant._collapse_kernel import collapse_fastq

    rng = np.random.default_rng(3)
    seqs = []
    for n in (60_000, 12_000):  # short reads beyond 40,960 distinct; then 250-300 nt ones
        lo, hi = (18, 30) if n > 20_000 else (250, 300)
        for _ in range(n):
            seqs.append("".join(rng.choice(list("ACGTN"), int(rng.integers(lo, hi)))))
    seqs += [seqs[int(i)] for i in rng.integers(0, len(seqs), 40_000)]  # repeats, anywhere
    text = "".join(f"@r{i}\n{s}\n+\n{'F' * len(s)}\n" for i, s in enumerate(seqs)).encode()
    want = Counter(seqs)
    mp = pytest.MonkeyPatch()
    mp.setattr(_collapse_kernel, "BLOCK", 1 << 16)
    try:
        got = collapse_fastq(io.BytesIO(text))
    finally:
        mp.undo()
    assert got is not None and got.n_reads == len(seqs)
    assert list(zip(got.sequences(), got.count.tolist(), strict=True)) == list(want.items())


def test_garbage_collector_is_restored(tmp_path):
    import gc

    fq = fastq(tmp_path / "g.fastq", [read_for("A" * 20)])
    assert gc.isenabled()
    quantify_smallrna([fq])
    assert gc.isenabled()
    with pytest.raises(InputError):
        quantify_smallrna([fq], kit="nope")
    assert gc.isenabled()


@pytest.mark.parametrize("kit", ["nextflex", "qiaseq"])
def test_simulated_kits(tmp_path, kit):
    fq = tmp_path / f"{kit}.fastq.gz"
    truth = sim.simulate(fq, n_reads=12_000, seed=5, kit=kit, n_mirnas=80)
    unit = "molecules" if kit == "qiaseq" else "reads"
    res = quantify_smallrna([fq], kit=kit)
    s = sim.score(res.counts[kit], truth, unit=unit)
    assert s["miRNA recovered"] >= 0.96 and s["mt-tRNA recovered"] >= 0.95, s
    # UMI errors are corrected by the directional method
    assert s["miRNA false"] < 0.01, s
    split = quantify_smallrna([fq], kit=kit, processes=2)
    pd.testing.assert_frame_equal(res.counts, split.counts)
    pd.testing.assert_frame_equal(res.qc, split.qc)


# ------------------------------------------------ inputs as users have them (issue 9, part 5)


def _mature_and_hairpin_fasta(ref, names, d: Path) -> tuple[Path, Path]:
    seqs = ref.mature_sequences()
    mat = d / "mature.fa"
    mat.write_text("".join(f">{n} MIMAT\n{seqs[n].replace('T', 'U')}\n" for n in names))
    hps = sorted({h for n, h, _, _ in ref.sites if n in set(names)})
    hp = d / "hairpin.fa"
    hp.write_text("".join(f">{h}\n{ref.hairpins[h]}\n" for h in hps))
    return mat, hp


def test_mature_fasta_without_hairpins_warns_and_counts_what_it_can(
    simulated, ref, tmp_path, caplog
):
    fq, truth, _ = simulated
    names = sorted(set(truth.loc[truth["category"] == "miRNA", "feature"]))
    mat, hp = _mature_and_hairpin_fasta(ref, names, tmp_path)
    with caplog.at_level("WARNING", logger="mtncrna"):
        alone = quantify_smallrna([fq], mature=mat)
    both = quantify_smallrna([fq], mature=mat, hairpin=hp)
    s_alone = sim.score(alone.counts["simA"], truth)
    s_both = sim.score(both.counts["simA"], truth)
    # with the hairpins every isomiR is recognised; without, the templated 3' extensions and
    # 5' upstream starts are lost (about a tenth of this library's miRNA reads)...
    assert s_both["miRNA recovered"] >= 0.99 and s_both["miRNA false"] < 0.01, s_both
    assert 0.85 < s_alone["miRNA recovered"] < 0.95, s_alone
    assert s_alone["miRNA false"] < 0.01
    # ...and the user is told, in the log, in the notes (provenance, CLI) and in the QC
    assert any("no hairpin" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert any("templated 3' isomiRs" in n for n in alone.notes)
    assert not both.notes
    # expected: reads that are a mature + 1-3 nt that are not all A/T (those count as a
    # non-templated tail), less the ~5% with a sequencing error in the read's 50 nt
    seqs = ref.mature_sequences()
    mir = truth[(truth["category"] == "miRNA") & ~truth["variant"].str.contains("iso_5p")]
    extra = [
        ins[len(seqs[f]) :] if ins.startswith(seqs[f]) else ""
        for f, ins in zip(mir["feature"], mir["insert"], strict=True)
    ]
    expected = mir["reads"][[0 < len(x) <= 3 and not set(x) <= {"A", "T"} for x in extra]].sum()
    got = alone.qc.loc["simA", "unassigned_mature_ext"]
    assert 0.9 * expected <= got <= expected, (got, expected)
    assert both.qc.loc["simA", "unassigned_mature_ext"] == 0
    assert any("unassigned_mature_ext" in n for n in alone.notes)


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory):
    """A library deposited adapter-trimmed, with miRNAs whose 3' end looks like the adapter."""
    d = tmp_path_factory.mktemp("trimmed")
    fq = d / "T1.fastq.gz"
    mirnas = ["hsa-miR-200c-3p", "hsa-miR-200b-3p", "hsa-miR-21-5p", "hsa-let-7a-5p"]
    truth = sim.simulate(fq, n_reads=20_000, seed=8, trimmed=True, mirnas=mirnas)
    return fq, truth


def test_trimmed_fastq_counts_right_with_trimming_off(trimmed):
    fq, truth = trimmed
    res = quantify_smallrna([fq], trim=False)
    s = sim.score(res.counts["T1"], truth)
    assert s["miRNA recovered"] >= 0.99 and s["miRNA false"] < 0.005, s
    assert s["mt-tRNA recovered"] >= 0.95 and s["mt-rRNA recovered"] >= 0.95, s
    qc = res.qc.loc["T1"]
    assert qc["with_adapter"] == 0 and qc["no_adapter"] == qc["reads_in"] == 20_000
    by_cat = truth.groupby("category")["reads"].sum()
    assert qc["adapter_dimer"] == by_cat["dimer"]  # the empty reads cutadapt leaves
    assert res.parameters["trim"] is False
    # miR-200c-3p ends in TGGA, the adapter's first 4 nt: its reads stay whole
    canonical = "TAATACTGCCGGGTAATGATGGA"
    want = truth.loc[truth["insert"] == canonical, "reads"].sum()
    iso = res.isomirs.set_index("Read")
    assert iso.loc[canonical, "miRNA"] == "hsa-miR-200c-3p"
    assert iso.loc[canonical, "Variant"] == "NA"
    assert 0.93 * want <= iso.loc[canonical, "T1"] <= want  # less reads with an error
    assert not any("trimming off" in n for n in res.notes)
    # "adapter none" is the same switch
    none = quantify_smallrna([fq], adapter="none")
    pd.testing.assert_frame_equal(res.counts, none.counts)


def test_trimmed_fastq_trimmed_again_is_wrong_and_flagged(trimmed):
    fq, _ = trimmed
    right = quantify_smallrna([fq], trim=False)
    again = quantify_smallrna([fq])
    # the 3' TGGA of miR-200c-3p is cut as if it were the adapter: its canonical reads are lost
    assert "TAATACTGCCGGGTAATGATGGA" not in set(again.isomirs["Read"])
    lost = right.counts.loc["hsa-miR-200c-3p", "T1"] - again.counts.loc["hsa-miR-200c-3p", "T1"]
    assert lost > 0.4 * right.counts.loc["hsa-miR-200c-3p", "T1"]
    assert any("--no-trim" in n for n in again.notes)


def test_trimming_off_refuses_what_it_cannot_do(tmp_path):
    fq = fastq(tmp_path / "t.fastq", ["ACGT" * 5])
    with pytest.raises(InputError, match="random nt"):
        quantify_smallrna([fq], kit="nextflex", trim=False)
    with pytest.raises(InputError, match="UMI"):
        quantify_smallrna([fq], kit="qiaseq", trim=False)
    with pytest.raises(InputError, match="one or the other"):
        quantify_smallrna([fq], adapter="TGGAATTC", trim=False)
    res = quantify_smallrna([fq], kit="qiaseq", trim=False, umi=False)
    assert res.qc.loc["t", "reads_in"] == 1


def test_cli_no_trim_and_adapter_none(run_cli, trimmed, tmp_path):
    fq, _ = trimmed
    code, out, err = run_cli("quant", "smallrna", fq, "--no-trim", "-o", tmp_path / "a")
    assert code == 0, err
    assert "note: " in out and "mt genome" in out  # the miRBase entries that are mtDNA
    code, _, err = run_cli("quant", "smallrna", fq, "--adapter", "NONE", "-o", tmp_path / "b")
    assert code == 0, err
    a = pd.read_csv(tmp_path / "a" / "counts_mature.tsv", sep="\t", index_col=0)
    b = pd.read_csv(tmp_path / "b" / "counts_mature.tsv", sep="\t", index_col=0)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc["hsa-miR-4485-3p", "T1"] == 0
    code, _, err = run_cli(
        "quant", "smallrna", fq, "--no-trim", "--kit", "nextflex", "-o", tmp_path / "c"
    )
    assert code == 2 and err.startswith("mtncrna: error:") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()


# ------------------------------------------------------------------------- sample names


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/data/S1_S1_L001_R1_001.fastq.gz", "S1"),
        ("run/ctrl-A_S12_R1_001.fq.gz", "ctrl-A"),
        ("X_1.fastq.gz", "X_1"),
        ("X_2.fastq.gz", "X_2"),
        ("X_R1.fastq", "X_R1"),
        ("liver_001.fq", "liver_001"),
        ("S1.trimmed.fastq.bz2", "S1"),
        ("S_3.FQ.GZ", "S_3"),
    ],
)
def test_sample_names_follow_the_shared_rule(tmp_path, path, name):
    from xopen import xopen

    from mtncrna.io import sample_name_from_path

    assert sample_name_from_path(path) == name
    p = tmp_path / Path(path).name
    with xopen(p.with_name(p.name.lower()), "wb") as fh:  # compressed as the name says
        fh.write(f"@r1\n{read_for('A' * 20)}\n+\n{'F' * 50}\n".encode())
    p.with_name(p.name.lower()).rename(p)
    assert list(quantify_smallrna([p]).counts.columns) == [name]


def test_sample_names_given_and_clashes(tmp_path, run_cli):
    a = fastq(tmp_path / "X_1.fastq", [read_for("A" * 20)])
    b = fastq(tmp_path / "X_2.fastq", [read_for("A" * 20)])
    assert list(quantify_smallrna([a, b]).counts.columns) == ["X_1", "X_2"]
    named = quantify_smallrna([a, b], sample_names=["ctrl", "treated"])
    assert list(named.counts.columns) == ["ctrl", "treated"]
    assert named.parameters["samples"] == ["ctrl", "treated"]
    with pytest.raises(InputError, match="1 sample name"):
        quantify_smallrna([a, b], sample_names=["ctrl"])
    d = tmp_path / "d"
    d.mkdir()
    c = fastq(d / "X_1.fq.gz", [read_for("A" * 20)], gz=True)
    with pytest.raises(InputError) as e:  # two files, one name: both are named
        quantify_smallrna([a, c])
    assert str(a) in str(e.value) and str(c) in str(e.value) and "--sample-names" in str(e.value)
    with pytest.raises(InputError, match="is also that of"):
        quantify_smallrna([a, b], sample_names=["s", "s"])
    code, _, err = run_cli(
        "quant", "smallrna", a, b, "--sample-names", "ctrl,treated", "-o", tmp_path / "o"
    )
    assert code == 0, err
    qc = pd.read_csv(tmp_path / "o" / "qc.tsv", sep="\t", index_col=0)
    assert list(qc.index) == ["ctrl", "treated"]
    code, _, err = run_cli("quant", "smallrna", a, c, "-o", tmp_path / "o2")
    assert code == 2 and "X_1" in err


def _edge_inserts(ref) -> list[str]:
    """Exact, one-mismatch, N-holding and tailed copies of mt-genome and hairpin stretches at
    every length class (short ones too), and the rCRS's own N at 3107."""
    g = ref.mt_genome
    out = [g[3100:3125], g[3095:3120].replace("N", "A"), g[3090:3118] + "CCA"]
    for n in (6, 8, 12, 13, 16, 17, 18, 19, 22, 30, 45):
        for p in range(100, 16000, 997):
            s = g[p : p + n]
            one = s[:5] + ("A" if s[5] != "A" else "C") + s[6:]
            out += [s, revcomp(s), one, s + "CCA", s + "CC", s + "C", s[:-1] + "N"]
    for name in ("hsa-let-7a-5p", "hsa-miR-21-5p", "hsa-miR-16-5p", "hsa-miR-1-3p"):
        hp, _, s, e = mature(ref, name)
        for d5 in (-3, -2, 0, 2, 3):
            for d3 in (-4, -3, 0, 3, 4):
                v = hp[max(0, s + d5) : e + d3]
                mid = len(v) // 2
                out += [v, v + "A", v + "TTA", v + "AAAA", v + "G", v[:mid] + "N" + v[mid + 1 :]]
                out += [v[:3] + ("A" if v[3] != "A" else "G") + v[4:] + "T"]
                out += [v[:-2] + ("A" if v[-2] != "A" else "G") + v[-1:]]
    return out


def test_bundled_reference_cache(tmp_path, monkeypatch, ref, caplog):
    """The bundled small-RNA reference is kept as JSON in the user's cache folder, keyed by the
    reference files and the code; a damaged or foreign cache is ignored and replaced."""
    from mtncrna.quant import _smallrna_reference as sr

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = sr._cached_bundled()
    (path,) = (tmp_path / "mtncrna" / "smallrna").glob("bundled-*.json")
    assert path.name == f"bundled-{sr._cache_key()}.json"
    assert built == ref
    monkeypatch.setattr(sr, "_build_bundled", lambda: pytest.fail("the cache was not used"))
    assert sr._cached_bundled() == ref
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    text = path.read_text()
    for damaged in (text[: len(text) // 2], text.replace('"sites": [["', '"sites": [["x', 1)):
        path.write_text(damaged)
        assert sr._cached_bundled() == ref
        assert "ignoring a damaged small-RNA reference cache" in caplog.text
        caplog.clear()
        assert path.read_text() == text  # replaced by a good one
    # another key (edited reference files or code): a new file, the old one removed
    monkeypatch.setattr(sr, "_cache_key", lambda: "0" * 32)
    assert sr._cached_bundled() == ref
    assert [p.name for p in path.parent.iterdir()] == [f"bundled-{'0' * 32}.json"]


@pytest.mark.parametrize("mismatches", [1, 0])
def test_compiled_search_equals_the_python_rules(simulated, ref, mismatches):
    """The compiled search (:class:`AssignIndex`) with the rules' own picking gives exactly the
    calls of the rules in Python on every insert (errors, tails, isomiRs, mt fragments, random
    RNA, N, short inserts), for the bundled and for a custom reference."""
    from mtncrna.quant._collapse import collapse_distinct, trim_distinct
    from mtncrna.quant._smallrna_assign import Assigner
    from mtncrna.quant._smallrna_reference import custom_reference

    fq, _, _ = simulated
    reads = collapse_distinct(fq)
    inserts = list(
        trim_distinct(reads, KITS["illumina"], min_length=1, max_length=50, umi=False).counts
    )
    inserts += _edge_inserts(ref)
    assigner = Assigner(ref, mismatches=mismatches)
    every = {r: c for r in inserts if (c := assigner.assign(r)) is not None}
    assert len(every) > 1000
    assert assigner.assign_many(inserts) == every
    # the one-hit shortcut of the pick is the general pick (a hit given twice ties with itself)
    tier, aux, hit_off, hits = assigner.index.search(inserts, mismatches)
    pick = assigner.mirna._pick
    single = [
        i for i in range(len(inserts)) if tier[i] in (2, 4) and hit_off[i + 1] - hit_off[i] == 1
    ]
    assert len(single) > 100
    for i in single:
        c = (int(aux[i]), *hits[hit_off[i]].tolist())
        assert pick([c], inserts[i]) == pick([c, c], inserts[i])
    # a custom reference: matures without hairpins, their own templates
    d = fq.parent
    names = ["hsa-let-7a-5p", "hsa-miR-21-5p", "hsa-miR-16-5p"]
    (d / "mat.fa").write_text("".join(f">{n}\n{mature(ref, n)[1]}\n" for n in names))
    custom = custom_reference(ref, mature=d / "mat.fa")
    assigner = Assigner(custom, mismatches=mismatches)
    every = {r: c for r in inserts if (c := assigner.assign(r)) is not None}
    assert any(isinstance(c, MirnaCall) for c in every.values())
    assert assigner.assign_many(inserts) == every


# ------------------------------------------------------------------ UMI deduplication


def _per_feature_umis(fq: Path) -> dict[str, dict[str, int]]:
    """miRNA -> UMI -> reads, from the library's own trimming and calls (the grouping the
    quantifier deduplicates within)."""
    import dnaio

    from mtncrna.quant._collapse import trim_uniques
    from mtncrna.quant._smallrna_assign import Assigner, MirnaCall

    with dnaio.open(fq, fileformat="fastq") as reader:
        reads = [(rec.sequence, 1) for rec in reader]
    part = trim_uniques(reads, KITS["qiaseq"], min_length=16, max_length=45, umi=True)
    calls = Assigner(bundled_reference()).assign_many(list(part.umis))
    out: dict[str, dict[str, int]] = {}
    for ins, per in part.umis.items():
        c = calls.get(ins)
        if isinstance(c, MirnaCall):
            d = out.setdefault(c.mirna, {})
            for u, n in per.items():
                d[u] = d.get(u, 0) + n
    return out


@pytest.fixture(scope="module")
def umi_library(tmp_path_factory):
    fq = tmp_path_factory.mktemp("umi") / "Q.fastq.gz"
    # errors at 0.5% per base: ~6% of reads carry a UMI error
    truth = sim.simulate(fq, n_reads=15_000, seed=21, kit="qiaseq", n_mirnas=60, error_rate=0.005)
    return fq, truth


UMI_TOOLS = ROOT / "tests" / "data" / "umi_tools"


def _umi_tools_golden() -> tuple[pd.DataFrame, pd.Series]:
    """umi_tools' input (miRNA, UMI, reads) and its directional molecule counts per miRNA, made by
    umi_tools 1.1.6 (tests/data/umi_tools/make_golden.py)."""
    groups = pd.read_csv(UMI_TOOLS / "groups.tsv.gz", sep="\t", keep_default_na=False)
    molecules = pd.read_csv(UMI_TOOLS / "directional.tsv", sep="\t", comment="#", index_col=0)
    return groups, molecules["molecules"]


def test_directional_grouping_gives_umi_tools_molecules():
    """Our directional grouping, on the UMIs umi_tools was given, makes as many molecules per
    miRNA as umi_tools' UMIClusterer did (committed output of the real tool)."""
    from mtncrna.quant._smallrna_kernel import directional_heads, umi_codes

    groups, expected = _umi_tools_golden()
    group = pd.factorize(groups["mirna"])[0].astype("int64")
    code = umi_codes(groups["umi"].tolist(), 12)
    heads = directional_heads(group, code, groups["reads"].to_numpy("int64"), 12)
    got = pd.Series(heads.astype(int), index=groups["mirna"]).groupby(level=0).sum()
    # the library has UMI errors: deduplication that ignored them would count more molecules
    assert len(groups) > expected.sum() + 100
    assert expected.sum() > 3000
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_quantified_umis_match_umi_tools(umi_library):
    """End to end: the simulated library's counts are umi_tools' molecule counts for it."""
    fq, _ = umi_library
    groups, expected = _umi_tools_golden()
    fresh = [(m, u, n) for m, per in sorted(_per_feature_umis(fq).items()) for u, n in per.items()]
    # the golden was made from this library's grouping; if it changed, remake it
    # (python tests/data/umi_tools/make_golden.py)
    assert sorted(fresh) == sorted(groups.itertuples(index=False, name=None))
    got = quantify_smallrna([fq], kit="qiaseq").counts["Q"]
    for mirna, n in expected.items():
        assert got[mirna] == n, mirna


def test_directional_umis_agree_with_umi_tools(umi_library):
    """umi_tools' own clustering (UMIClusterer, what `umi_tools count --method directional`
    runs per gene) on each miRNA's UMIs gives our molecule counts exactly. umi_tools 1.1.6 from
    PyPI builds only without isolation: pip install "setuptools<81" wheel cython &&
    pip install --no-build-isolation umi_tools."""
    umi_tools = pytest.importorskip("umi_tools.network")
    fq, _ = umi_library
    res = quantify_smallrna([fq], kit="qiaseq")
    clusterer = umi_tools.UMIClusterer(cluster_method="directional")
    code = {"A": "0", "C": "1", "G": "2", "T": "3", "N": "4"}
    expected = {}
    for mirna, per in _per_feature_umis(fq).items():
        # same visiting order for equal counts as ours (smaller UMI first)
        umis = sorted(per, key=lambda u: "".join(code[c] for c in u))
        counts = {u.encode(): per[u] for u in umis}
        expected[mirna] = len(clusterer(counts, threshold=1))
    got = res.counts["Q"]
    assert sum(expected.values()) > 3000
    for mirna, n in expected.items():
        assert got[mirna] == n, mirna


def test_directional_umis_remove_error_molecules(umi_library):
    fq, truth = umi_library
    directional = quantify_smallrna([fq], kit="qiaseq")
    unique = quantify_smallrna([fq], kit="qiaseq", umi_method="unique")
    s_dir = sim.score(directional.counts["Q"], truth, unit="molecules")
    s_uni = sim.score(unique.counts["Q"], truth, unit="molecules")
    # UMI errors make extra molecules when every UMI counts; the directional method removes
    # nearly all of them and loses almost none of the real ones
    assert s_uni["miRNA false"] > 0.04, s_uni
    assert s_dir["miRNA false"] < 0.01, s_dir
    assert s_dir["miRNA recovered"] >= 0.96, s_dir
    assert directional.parameters["umi_method"] == "directional"
    with pytest.raises(InputError, match="umi_method"):
        quantify_smallrna([fq], kit="qiaseq", umi_method="cluster")


# ------------------------------------------------------------------------------ mirGFF3


def _mirtop() -> str:
    import shutil

    exe = Path(sys.executable).with_name("mirtop")
    found = str(exe) if exe.exists() else shutil.which("mirtop")
    if found is None:
        pytest.skip(
            "mirtop not installed (PyPI mirtop 0.4.30 also needs six, biopython and pybedtools: "
            "pip install mirtop six biopython pybedtools)"
        )
    return found


def _mirbase_style_gff3(ref, path: Path) -> Path:
    """The reference's hairpins and mature sites as a miRBase-style GFF3 in hairpin
    coordinates: what `mirtop counts --gtf` reads (here only for the database name)."""
    lines = ["##gff-version 3", "# miRBase v22 (hairpin coordinates)"]
    for h, s in ref.hairpins.items():
        lines.append(f"{h}\t.\tmiRNA_primary_transcript\t1\t{len(s)}\t.\t+\t.\tID={h};Name={h}")
    for k, (name, h, a, b) in enumerate(ref.sites):
        lines.append(f"{h}\t.\tmiRNA\t{a + 1}\t{b}\t.\t+\t.\tID=M{k};Name={name};Derives_from={h}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def two_samples(tmp_path_factory):
    d = tmp_path_factory.mktemp("gff")
    a, b = d / "G1.fastq.gz", d / "G2.fastq.gz"
    sim.simulate(a, n_reads=6_000, seed=31, n_mirnas=40)
    sim.simulate(b, n_reads=6_000, seed=32, n_mirnas=40)
    res = quantify_smallrna([a, b])
    return res, write_smallrna(res, d / "out")


def test_mirgff3_follows_the_specification(two_samples, ref):
    res, paths = two_samples
    lines = paths["isomirs_gff"].read_text().splitlines()
    head = [ln for ln in lines if ln.startswith("#")]
    body = [ln.split("\t") for ln in lines if not ln.startswith("#")]
    assert head[0] == "## mirGFF3. VERSION 1.2"  # as mirtop writes it
    assert head[-1] == "## COLDATA: G1,G2"
    assert any(h.startswith("## source-ontology: miRBasev22 doi:10.25504") for h in head)
    assert len(body) == len(res.isomirs)
    iso = res.isomirs.set_index("Read")
    for cols in body:
        assert len(cols) == 9 and cols[5] == "." and cols[6] == "+"
        attrs = dict(a.split("=", 1) for a in cols[8].split("; "))
        row = iso.loc[attrs["Read"]]
        assert attrs["Name"] == row["miRNA"] and attrs["Variant"] == row["Variant"]
        assert cols[2] == ("ref_miRNA" if row["Variant"] == "NA" else "isomiR")
        assert attrs["Expression"] == f"{row['G1']},{row['G2']}"
        # the read lies on its hairpin from start to end; M only where it matches
        h = ref.hairpins[cols[0]]
        start, end = int(cols[3]), int(cols[4])
        assert end - start + 1 == len(attrs["Read"])
        same = sum(x == y for x, y in zip(attrs["Read"], h[start - 1 : end], strict=False))
        matched = sum(int(n) for n in re.findall(r"(\d+)M", attrs["Cigar"]))
        assert matched == same
        if row["Variant"] == "NA":
            assert attrs["Cigar"] == f"{len(attrs['Read'])}M"
    # and mtncrna's own reader of mirtop files reads it back: counts per miRNA as counted
    back = mt.read_counts(paths["isomirs_gff"], annotate=False)
    assert list(back.obs_names) == ["G1", "G2"]
    got = pd.DataFrame(back.X.T, index=back.var_names, columns=back.obs_names)
    pd.testing.assert_frame_equal(
        got, res.counts.loc[got.index], check_names=False, check_dtype=False
    )


def test_compiled_cigars_and_variant_columns_equal_the_rules(ref):
    """The compiled CIGARs equal :func:`cigar` (reads past the hairpin's end, runs of 10+,
    empty reads, mismatches everywhere); the batched variant columns equal :func:`_variant`."""
    import random

    from mtncrna.quant._mirgff import cigar
    from mtncrna.quant._smallrna import _variant, _variants
    from mtncrna.quant._smallrna_kernel import cigars

    rng = random.Random(1)
    reads, refs = [], []
    for _ in range(5000):
        r = "".join(rng.choice("ACGTN") for _ in range(rng.randint(0, 40)))
        f = "".join(c if rng.random() < 0.85 else rng.choice("ACGT") for c in r)
        reads.append(r)
        refs.append(f[: rng.randint(0, len(r) + 2)])
    reads += ["ACGT" * 6, "ACGTACGTACGTA", ""]
    refs += ["ACGT" * 6, "ACGTACGTACGTC", ""]
    assert cigars(reads, refs) == [cigar(r, f, 0) for r, f in zip(reads, refs, strict=True)]
    assert cigars(["AÇGT"], ["ACGT"]) == ["1MC2M"]  # not ASCII: the rule itself
    calls = []  # every 5' / 3' shift, tail and mismatch position, on real hairpins
    for i, (name, h) in enumerate(list(ref.hairpins.items())[:600]):
        m5, m3 = 10, 32
        start, end = m5 + i % 5 - 2, m3 + i % 7 - 3
        add = ("", "A", "AT", "TTA")[i % 4]
        snv = (1 + i % 22, "A", h[start + i % 22]) if i % 3 == 0 else None
        calls.append(MirnaCall("m", 1, name, start, end, m5, m3, add, snv))
    rows = list(zip(*_variants(calls, ref.hairpins), strict=True))
    assert rows == [_variant(c, ref.hairpins) for c in calls]
    assert _variants([], ref.hairpins) == [[]] * 9


def test_mirgff3_percent_encodes_reserved_characters():
    from mtncrna.quant._mirgff import mirgff_lines

    iso = pd.DataFrame(
        {"UID": ["u1", "u2"], "Read": ["ACGT", "ACGA"], "miRNA": ["m;1,a", "m2"]}
        | {"Variant": ["NA", "iso_snv"], "S=1": [3, 4]}
    )
    loci = pd.DataFrame(
        {"Parent": ["h&1", "h2"], "start": [1, 1], "end": [4, 4], "Cigar": ["4M", "3MT"]}
        | {"Hits": [1, 1]}
    )
    lines = mirgff_lines(iso, loci, ["S=1"], source="custom", tool="t")
    assert lines[4] == "## COLDATA: S%3D1"
    assert lines[5].startswith("h&1\tcustom\tref_miRNA\t1\t4\t")
    assert "Name=m%3B1%2Ca; Parent=h%261;" in lines[5]
    assert "UID=u2; Read=ACGA; Name=m2; Parent=h2; Variant=iso_snv; Cigar=3MT;" in lines[6]


def test_mirtop_reads_our_mirgff3(two_samples, ref, tmp_path):
    import csv
    import subprocess

    mirtop = _mirtop()
    res, paths = two_samples
    gff = paths["isomirs_gff"]
    subprocess.run([mirtop, "stats", "-o", str(tmp_path / "stats"), str(gff)], check=True)
    stats = pd.read_csv(tmp_path / "stats" / "mirtop_stats.txt", comment="#", index_col=0)
    # mirtop 0.4.30 appends zero rows for categories it thinks are missing: keep the first
    stats = stats.set_index(["category", "sample"])["counts"].groupby(level=[0, 1]).first()
    iso = res.isomirs
    for s in ("G1", "G2"):
        canonical = iso.loc[iso["Variant"] == "NA", s].sum()
        assert stats[("ref_miRNA_sum", s)] == canonical
        assert stats[("isomiR_sum", s)] == iso.loc[iso["Variant"] != "NA", s].sum()
        assert stats[("iso_3p_sum", s)] == iso.loc[iso["iso_3p"] != "0", s].sum()
    gtf = _mirbase_style_gff3(ref, tmp_path / "mirna.gff3")
    (tmp_path / "counts").mkdir()
    subprocess.run(
        [mirtop, "counts", "--gff", str(gff), "--gtf", str(gtf), "-o", str(tmp_path / "counts")],
        check=True,
    )
    # mirtop 0.4.30 writes the sample columns inside one quoted field
    with open(tmp_path / "counts" / "isomirs.tsv", newline="") as fh:
        rows = [r for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]
    header = [c.strip('"') for c in rows[0]]
    table = pd.DataFrame([[c.strip('"') for c in r] for r in rows[1:]], columns=header).set_index(
        "Read"
    )
    assert len(table) == len(iso)  # every line read, none refused
    ours = iso.set_index("Read")
    for col in ("miRNA", "Variant", "iso_5p", "iso_3p", "iso_add3p", "iso_snp"):
        assert (table[col] == ours.loc[table.index, col].astype(str)).all(), col
    for s in ("G1", "G2"):
        got = table[s].astype(int).groupby(table["miRNA"]).sum()
        assert (got == res.counts.loc[got.index, s]).all()


def test_mt_derived_matures_are_found_on_both_strands_and_at_any_length(ref):
    from mtncrna.quant._smallrna_reference import SmallRnaReference

    mt = ref.mt_genome
    seqs = {
        "plus": mt[1000:1022],
        "minus": revcomp(mt[5000:5019]),
        "short": mt[200:210],  # shorter than the 12-mer lookup
        "end": mt[-16:],  # the genome's last bases
        "no": "ACGT" * 6,
    }
    hairpins = {f"h-{n}": "GG" + s + "CC" for n, s in seqs.items()}
    sites = [(n, f"h-{n}", 2, 2 + len(s)) for n, s in seqs.items()]
    custom = SmallRnaReference(list(seqs), hairpins, sites, ref.mt_name, mt, ref.mt_genes, "test")
    want = sorted(n for n, s in seqs.items() if s in mt or s in revcomp(mt))
    assert custom.mt_derived() == want == ["end", "minus", "plus", "short"]


@pytest.mark.parametrize(
    "adapter", ["TGGAATTCTCGGGTGCCAAGG", "AACTGTAGGCACCATCAAT", "AGATCGGAAGAGC", "ACGT"]
)
def test_compiled_aligner_is_cutadapts(adapter):
    """The compiled copy of cutadapt's 3' adapter alignment gives cutadapt's (start, stop) on
    reads with the adapter cut at the read's end, with mismatches, insertions and deletions in
    it, with Ns, and without it (cutadapt's own k-mer pre-filter + aligner is the reference)."""
    from mtncrna.quant._collapse import align_all, compiled_aligner
    from mtncrna.quant._collapse_kernel import locate_back

    rng = np.random.default_rng(7)

    def mutated(s: str) -> str:
        out = list(s)
        for _ in range(int(rng.integers(0, 4))):
            op, p = int(rng.integers(0, 3)), int(rng.integers(0, len(out) + 1))
            if op == 0 and p < len(out):
                out[p] = "ACGTN"[int(rng.integers(0, 5))]
            elif op == 1:
                out.insert(p, "ACGT"[int(rng.integers(0, 4))])
            elif op == 2 and p < len(out):
                del out[p]
        return "".join(out)

    def bases(n: int) -> str:
        return "".join(rng.choice(list("ACGTN"), n, p=[0.24, 0.24, 0.24, 0.24, 0.04]))

    reads = []
    for _ in range(20_000):
        cut = int(rng.integers(0, len(adapter) + 4))
        reads.append(
            bases(int(rng.integers(0, 45)))
            + mutated(adapter)[:cut]
            + bases(int(rng.integers(0, 6)))
        )
    reads += [bases(int(rng.integers(0, 60))) for _ in range(5_000)]
    params = compiled_aligner(adapter)
    assert params == (0.1, 3)
    arena = np.frombuffer("".join(reads).encode(), dtype=np.uint8)
    length = np.fromiter(map(len, reads), dtype=np.int64, count=len(reads))
    off = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int64)
    whole = np.frombuffer(adapter.encode(), dtype=np.uint8)
    start, stop = locate_back(arena, off, length, whole, *params)
    got = [None if a < 0 else (a, b) for a, b in zip(start.tolist(), stop.tolist(), strict=True)]
    want = align_all(adapter, reads)
    assert sum(w is not None for w in want) > 5_000  # a third of the reads hold the adapter
    assert got == want


def test_compiled_aligner_only_for_what_it_copies():
    from mtncrna.quant._collapse import compiled_aligner

    assert compiled_aligner("TGGAATTCTCGG") == (0.1, 3)
    assert compiled_aligner("TGGAATTNTCGG") is None  # a wildcard: cutadapt aligns
    assert compiled_aligner("TGGAATTRTCGG") is None


def test_concatenated_and_bgzf_gzip_read_whole(tmp_path):
    """gzip files of several members (``cat a.gz b.gz``; BGZF, as bgzip and some pipelines write
    FASTQs) are read to the end by the compiled collapse, as by the reference reader."""
    import pysam

    from mtncrna.quant._collapse import collapse, collapse_distinct

    rng = np.random.default_rng(5)
    reads = [
        read_for("".join(rng.choice(list("ACGT"), int(rng.integers(18, 26))))) for _ in range(3000)
    ]
    reads += reads[:1000]
    plain = fastq(tmp_path / "all.fastq", reads)
    half = len(reads) // 2
    parts = [
        fastq(tmp_path / f"p{i}.fastq", r, gz=True)
        for i, r in enumerate((reads[:half], reads[half:]))
    ]
    multi = tmp_path / "multi.fastq.gz"
    multi.write_bytes(b"".join(p.read_bytes() for p in parts))
    bgzf = tmp_path / "bgzf.fastq.gz"
    pysam.tabix_compress(str(plain), str(bgzf), force=True)
    want, n = collapse(plain)
    for path in (multi, bgzf):
        for threads in (0, 1):
            got = collapse_distinct(path, threads=threads)
            assert got.n_reads == n == len(reads)
            assert dict(zip(got.sequences(), got.count.tolist(), strict=True)) == dict(want)


def test_plain_fastq_named_gz_is_one_clear_line(run_cli, tmp_path):
    p = fastq(tmp_path / "S1.fastq.gz", [read_for("A" * 22)])  # not compressed
    code, _out, err = run_cli("quant", "smallrna", "-o", tmp_path / "out", p)
    assert code == 2
    assert "is named '.gz' but is not compressed (it is plain text" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
