"""BAM -> counts: the same numbers as featureCounts, on its own output and on hand-made cases."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from conftest import FORMATS, write
from mtncrna._errors import InputError, MtncrnaError
from mtncrna.quant import count_bam, read_annotation, write_counts
from mtncrna.quant._bam import SUMMARY_ROWS

BAMS = [FORMATS / "bam" / f"S{i}.sorted.bam" for i in range(1, 5)]
GTF = FORMATS / "world" / "genes.gtf"
FC = FORMATS / "featurecounts"


def read_fc(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """featureCounts output -> (annotation columns, counts with sample columns, summary)."""
    table = pd.read_csv(path, sep="\t", comment="#", index_col=0)
    counts = table.filter(regex=r"\.bam$")
    counts.columns = [re.sub(r"^.*/|(\.sorted)?\.bam$", "", c) for c in counts.columns]
    summary = pd.read_csv(path.with_name(path.name + ".summary"), sep="\t", index_col=0)
    summary.columns = counts.columns
    return table.iloc[:, :5], counts, summary


# --------------------------------------------------------------------------------------------
# the committed featureCounts 2.0.3 output on the committed BAMs
# --------------------------------------------------------------------------------------------


def test_counts_equal_featurecounts_defaults():
    ann, expected, summary = read_fc(FC / "counts.txt")
    result = count_bam(BAMS, GTF)
    assert result.samples == ["S1", "S2", "S3", "S4"]
    assert result.counts.dtypes.map(lambda d: d.kind == "i").all()
    pd.testing.assert_frame_equal(result.counts, expected, check_names=False)
    pd.testing.assert_frame_equal(
        result.summary.loc[list(summary.index)], summary, check_names=False
    )
    assert list(result.summary.index) == list(SUMMARY_ROWS) == list(summary.index)
    # featureCounts' annotation columns, multi-exon genes ;-joined
    assert (result.annotation["Length"] == ann["Length"]).all()
    assert (
        (
            result.annotation[["Chr", "Start", "End", "Strand"]].astype(str)
            == ann.iloc[:, :4].astype(str)
        )
        .all()
        .all()
    )


def test_counts_equal_featurecounts_min_mapq_10():
    _, expected, summary = read_fc(FC / "counts_q10_extra.txt")
    result = count_bam(BAMS, read_annotation(GTF), min_mapq=10, threads=2)
    pd.testing.assert_frame_equal(result.counts, expected, check_names=False)
    pd.testing.assert_frame_equal(result.summary, summary, check_names=False)
    # the MAPQ filter comes before the multi-mapping one (the NH:2 records have MAPQ 1)
    assert result.summary.loc["Unassigned_MultiMapping"].sum() == 0


def bgzf(data: bytes, size: int) -> bytes:
    """Re-block raw BAM bytes into BGZF blocks of ``size`` bytes (records cut anywhere)."""
    out = []
    for i in range(0, len(data) + 1, size):
        piece = data[i : i + size]
        if not piece:
            break
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        comp = c.compress(piece) + c.flush()
        out.append(
            b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
            + struct.pack("<H", len(comp) + 25)
            + comp
            + struct.pack("<II", zlib.crc32(piece), len(piece))
        )
    return b"".join(out) + bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def test_records_across_blocks_and_chunks(tmp_path, monkeypatch):
    """Records cut across tiny BGZF blocks, read a few blocks at a time, count the same."""
    from mtncrna.quant import _bam

    expected = count_bam(BAMS, GTF)
    small = []
    for bam in BAMS:
        with pysam.BGZFile(str(bam), "rb") as fh:
            raw = fh.read()
        small.append(tmp_path / bam.name)
        small[-1].write_bytes(bgzf(raw, 97))
    monkeypatch.setattr(_bam, "_CHUNK", 300)
    for threads in (1, 2):
        result = count_bam(small, GTF, threads=threads)
        pd.testing.assert_frame_equal(result.counts, expected.counts)
        pd.testing.assert_frame_equal(result.summary, expected.summary)
    # a block's inflated size disagreeing with its trailer is corruption
    bad = bytearray(small[0].read_bytes())
    bad[-28 - 4] ^= 1
    (tmp_path / "bad.bam").write_bytes(bytes(bad))
    with pytest.raises(InputError, match=r"bad\.bam: corrupt BGZF block"):
        count_bam(tmp_path / "bad.bam", GTF)


def test_write_counts_loads_with_import(tmp_path):
    import mtncrna as mt

    result = count_bam(BAMS, GTF)
    out, summary = write_counts(result, tmp_path / "counts.tsv")
    assert summary.name == "counts.tsv.summary"
    header = "Geneid Chr Start End Strand Length gene_name gene_biotype S1 S2 S3 S4"
    assert out.read_text().splitlines()[0].split("\t") == header.split()
    adata = mt.read_counts(out, annotate=False)
    assert list(adata.obs_names) == ["S1", "S2", "S3", "S4"]
    np.testing.assert_array_equal(np.asarray(adata.X).T, result.counts.to_numpy())
    assert (adata.obs["featurecounts_Assigned"] == [271, 418, 187, 324]).all()
    assert adata.var.loc["ENSG00000240405", "gene_name"] == "SAMMSON"
    with pytest.raises(MtncrnaError, match="overwrite the input"):
        write_counts(result, BAMS[0])


# --------------------------------------------------------------------------------------------
# hand-made BAMs
# --------------------------------------------------------------------------------------------

TINY_GTF = (
    "\n".join(
        f'{c}\tt\texon\t{s}\t{e}\t.\t{st}\t.\tgene_id "{g}"; transcript_id "{g}.1";'
        for c, s, e, st, g in [
            ("chr1", 101, 200, "+", "A"),
            ("chr1", 181, 300, "-", "B"),  # overlaps A on 181-200, other strand
            ("chr1", 1001, 1100, "+", "C"),
            ("chr1", 1301, 1400, "+", "C"),
            ("chr1", 1150, 1250, "+", "D"),  # inside C's intron
            ("chr1", 2001, 2100, "+", "E"),
            ("chr1", 2111, 2114, "+", "F"),  # inside a deletion of one read
            ("MT", 1, 70, "+", "MT-TF"),
        ]
    )
    + "\n"
)


def sam_line(name, flag, chrom, pos, cigar, *, mapq=60, tags="NH:i:1"):
    qlen = sum(int(n) for n, op in re.findall(r"(\d+)([MIS=X])", cigar))
    seq = "ACGT" * (qlen // 4 + 1)
    fields = [name, str(flag), chrom, str(pos), str(mapq), cigar, "*", "0", "0", seq[:qlen], "*"]
    if flag & 4:
        fields[2:6] = ["*", "0", "0", "*"]
    return "\t".join(fields + ([tags] if tags else []))


def make_bam(path: Path, lines, refs=(("chr1", 5000), ("chr2", 5000), ("chrM", 16569))) -> Path:
    header = pysam.AlignmentHeader.from_dict(
        {"HD": {"VN": "1.6", "SO": "unsorted"}, "SQ": [{"SN": n, "LN": ln} for n, ln in refs]}
    )
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for line in lines:
            out.write(pysam.AlignedSegment.fromstring(line, header))
    return path


@pytest.fixture
def tiny(tmp_path):
    gtf = write(tmp_path / "tiny.gtf", TINY_GTF)
    reads = [
        sam_line("a1", 0, "chr1", 121, "50M"),  # A only
        sam_line("ab", 0, "chr1", 171, "30M"),  # A(+) and B(-): ambiguous unless stranded
        sam_line("b1", 16, "chr1", 251, "40M"),  # B only, reverse strand
        sam_line("c1", 0, "chr1", 1051, "50M200N50M"),  # C; its intron spans D
        sam_line("e1", 0, "chr1", 2091, "20M5D20M"),  # E; F (2111-2114) is inside the deletion
        sam_line("m1", 0, "chr1", 131, "40M", mapq=1, tags="NH:i:2\tHI:i:1"),  # A
        sam_line("m1", 256, "chr1", 1021, "40M", mapq=1, tags="NH:i:2\tHI:i:2"),  # C
        sam_line("mt", 0, "chrM", 11, "40M"),  # BAM chrM, GTF MT
        sam_line("ig", 0, "chr1", 3001, "40M"),  # intergenic
        sam_line("lq", 0, "chr1", 141, "40M", mapq=3),  # A, low MAPQ
        sam_line("un", 4, "*", 0, "*", tags=""),
    ]
    return make_bam(tmp_path / "tiny.bam", reads), gtf


def counts_of(result, sample="tiny"):
    return result.counts[sample].to_dict()


def test_tiny_defaults(tiny):
    bam, gtf = tiny
    r = count_bam(bam, gtf)
    assert counts_of(r) == {"A": 2, "B": 1, "C": 1, "D": 0, "E": 1, "F": 0, "MT-TF": 1}
    s = r.summary["tiny"]
    assert s["Assigned"] == 6
    assert s["Unassigned_Ambiguity"] == 1
    assert s["Unassigned_MultiMapping"] == 2  # both records of the NH:2 read
    assert s["Unassigned_NoFeatures"] == 1
    assert s["Unassigned_Unmapped"] == 1
    assert s["Unassigned_MappingQuality"] == 0


def test_tiny_strand_rules(tiny):
    bam, gtf = tiny
    fwd = count_bam(bam, gtf, strand="forward")
    # ab (+) now hits only A; b1 (-) matches B (-)
    assert counts_of(fwd) == {"A": 3, "B": 1, "C": 1, "D": 0, "E": 1, "F": 0, "MT-TF": 1}
    rev = count_bam(bam, gtf, strand="reverse")
    # ab (+) hits only B (-); b1 (-) needs a + gene: none; a1, lq, c1, e1, mt need - genes
    assert counts_of(rev) == {"A": 0, "B": 1, "C": 0, "D": 0, "E": 0, "F": 0, "MT-TF": 0}
    assert rev.summary.loc["Unassigned_NoFeatures", "tiny"] == 7


def test_tiny_multimappers(tiny):
    bam, gtf = tiny
    unique = counts_of(count_bam(bam, gtf, multimap="unique"))
    everything = counts_of(count_bam(bam, gtf, multimap="all"))
    frac = count_bam(bam, gtf, multimap="fraction")
    assert everything["A"] == unique["A"] + 1 and everything["C"] == unique["C"] + 1
    assert frac.counts.dtypes.iloc[0].kind == "f"
    assert counts_of(frac)["A"] == unique["A"] + 0.5
    assert counts_of(frac)["C"] == unique["C"] + 0.5
    assert frac.summary.loc["Assigned", "tiny"] == 8  # records, not fractions
    primary = count_bam(bam, gtf, multimap="all", primary_only=True)
    assert counts_of(primary)["C"] == unique["C"]
    assert primary.summary.loc["Unassigned_Secondary", "tiny"] == 1
    # MAPQ is checked before NH
    q = count_bam(bam, gtf, min_mapq=10)
    assert q.summary.loc["Unassigned_MappingQuality", "tiny"] == 3
    assert q.summary.loc["Unassigned_MultiMapping", "tiny"] == 0


def test_tiny_multi_overlap(tiny):
    bam, gtf = tiny
    r = count_bam(bam, gtf, allow_multi_overlap=True)
    assert counts_of(r)["A"] == 3 and counts_of(r)["B"] == 2
    assert r.summary.loc["Unassigned_Ambiguity", "tiny"] == 0
    f = count_bam(bam, gtf, allow_multi_overlap=True, multimap="fraction")
    assert counts_of(f)["A"] == 2 + 0.5 + 0.5 and counts_of(f)["B"] == 1.5


def test_collapsed_read_weights(tmp_path):
    gtf = write(tmp_path / "g.gtf", TINY_GTF)
    bam = make_bam(
        tmp_path / "collapsed.bam",
        [
            sam_line("seq_1_x5", 0, "chr1", 121, "22M"),  # seqcluster / miRDeep2
            sam_line("2-7", 0, "chr1", 131, "22M"),  # fastx_collapser
            sam_line("uniq;size=3;", 0, "chr1", 1011, "22M"),  # vsearch
            sam_line("seq_9_x4", 0, "chr1", 171, "22M"),  # ambiguous A/B
            sam_line("seq_8_x10", 0, "chr1", 121, "22M", tags="NH:i:2"),
            sam_line("seq_8_x10", 256, "chr1", 1011, "22M", tags="NH:i:2"),
        ],
    )
    r = count_bam(bam, gtf, weights_from_name=True)
    assert counts_of(r, "collapsed") == {
        "A": 12,
        "B": 0,
        "C": 3,
        "D": 0,
        "E": 0,
        "F": 0,
        "MT-TF": 0,
    }
    assert r.summary.loc["Assigned", "collapsed"] == 15
    assert r.summary.loc["Unassigned_Ambiguity", "collapsed"] == 4
    assert r.summary.loc["Unassigned_MultiMapping", "collapsed"] == 20
    f = count_bam(bam, gtf, weights_from_name=True, multimap="fraction")
    assert counts_of(f, "collapsed")["A"] == 17 and counts_of(f, "collapsed")["C"] == 8
    plain = count_bam(bam, gtf)
    assert counts_of(plain, "collapsed")["A"] == 2

    bad = make_bam(tmp_path / "plain.bam", [sam_line("read17", 0, "chr1", 121, "22M")])
    with pytest.raises(InputError, match=r"read name 'read17' carries no copy number"):
        count_bam(bad, gtf, weights_from_name=True)


def test_contig_names_chr_prefix_and_mt(tmp_path):
    gtf = write(
        tmp_path / "g.gtf",
        'chr1\tt\texon\t101\t200\t.\t+\t.\tgene_id "A";\n'
        'MT\tt\texon\t1\t70\t.\t+\t.\tgene_id "MT-TF";\n',
    )
    bam = make_bam(
        tmp_path / "x.bam",
        [sam_line("a", 0, "1", 121, "30M"), sam_line("m", 0, "chrM", 5, "30M")],
        refs=(("1", 1000), ("chrM", 16569)),
    )
    assert counts_of(count_bam(bam, gtf), "x") == {"A": 1, "MT-TF": 1}
    other = make_bam(
        tmp_path / "y.bam", [sam_line("a", 0, "scaffold", 5, "30M")], refs=(("scaffold", 100),)
    )
    with pytest.raises(InputError, match="none of its 1 reference sequences"):
        count_bam(other, gtf)


def test_annotation_formats_agree(tmp_path, tiny):
    bam, gtf = tiny
    saf = write(
        tmp_path / "g.saf",
        "GeneID\tChr\tStart\tEnd\tStrand\n"
        + "".join(
            f"{m.group(5)}\t{m.group(1)}\t{m.group(2)}\t{m.group(3)}\t{m.group(4)}\n"
            for m in re.finditer(
                r'(\S+)\tt\texon\t(\d+)\t(\d+)\t.\t(.)\t.\tgene_id "([^"]+)"', TINY_GTF
            )
        ),
    )
    gff_lines = ["##gff-version 3"]
    for m in re.finditer(r'(\S+)\tt\texon\t(\d+)\t(\d+)\t.\t(.)\t.\tgene_id "([^"]+)"', TINY_GTF):
        c, s, e, st, g = m.groups()
        gff_lines.append(f"{c}\tt\tgene\t{s}\t{e}\t.\t{st}\t.\tID=gene:{g};Name={g}-name")
        gff_lines.append(f"{c}\tt\tmRNA\t{s}\t{e}\t.\t{st}\t.\tID=tx:{g}:{s};Parent=gene:{g}")
        gff_lines.append(f"{c}\tt\texon\t{s}\t{e}\t.\t{st}\t.\tParent=tx:{g}:{s}")
    gff = write(tmp_path / "g.gff3.gz", "\n".join(gff_lines) + "\n", gz=True)
    expected = count_bam(bam, gtf).counts
    for path, fmt in ((saf, "saf"), (gff, "gff3")):
        ann = read_annotation(path)
        assert ann.format == fmt
        pd.testing.assert_frame_equal(count_bam(bam, ann).counts, expected)
    assert read_annotation(gff).var.loc["A", "gene_name"] == "A-name"


def test_sam_input_and_threads(tmp_path, tiny):
    bam, gtf = tiny
    sam = tmp_path / "tiny_sam.sam"
    with (
        pysam.AlignmentFile(str(bam)) as src,
        pysam.AlignmentFile(str(sam), "w", template=src) as dst,
    ):
        for rec in src.fetch(until_eof=True):
            dst.write(rec)
    r = count_bam([bam, sam], gtf, threads=2)
    assert (r.counts["tiny"] == r.counts["tiny_sam"]).all()
    assert (r.summary["tiny"] == r.summary["tiny_sam"]).all()


def test_cram_input(tmp_path):
    fasta = tmp_path / "genome.fa"
    shutil.copy(FORMATS / "world" / "genome.fa", fasta)
    pysam.faidx(str(fasta))
    cram = tmp_path / "S1.cram"
    with (
        pysam.AlignmentFile(str(BAMS[0])) as src,
        pysam.AlignmentFile(str(cram), "wc", template=src, reference_filename=str(fasta)) as dst,
    ):
        for rec in src.fetch(until_eof=True):
            dst.write(rec)
    expected = count_bam(BAMS[0], GTF)
    result = count_bam(cram, GTF, reference_fasta=fasta)
    pd.testing.assert_frame_equal(result.counts, expected.counts)
    pd.testing.assert_frame_equal(result.summary, expected.summary)


def test_paired_end_is_refused(tmp_path, tiny):
    _, gtf = tiny
    bam = make_bam(tmp_path / "pe.bam", [sam_line("p", 1 | 2 | 64 | 32, "chr1", 121, "30M")])
    with pytest.raises(MtncrnaError, match=r"paired-end reads .* not supported yet"):
        count_bam(bam, gtf)
    with pytest.raises(MtncrnaError, match="not supported yet"):
        count_bam(tiny[0], gtf, paired=True)


# --------------------------------------------------------------------------------------------
# bad inputs: one clear line each
# --------------------------------------------------------------------------------------------


def test_not_a_bam(tmp_path):
    with pytest.raises(InputError, match=r"genes\.gtf: is not a BAM, SAM or CRAM file"):
        count_bam(GTF, GTF)
    empty = write(tmp_path / "e.bam", "")
    with pytest.raises(InputError, match="is empty"):
        count_bam(empty, GTF)
    gz = write(tmp_path / "g.bam", "hello\n", gz=True)
    with pytest.raises(InputError, match="gzip-compressed but not BGZF"):
        count_bam(gz, GTF)


def test_truncated_bam(tmp_path):
    raw = BAMS[1].read_bytes()
    cut = tmp_path / "cut.bam"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"cut\.bam: is truncated: the BGZF end-of-file marker"):
        count_bam([BAMS[0], cut], GTF)
    # blocks cut out of the middle, end-of-file marker kept
    holed = tmp_path / "holed.bam"
    holed.write_bytes(raw[: len(raw) // 2] + raw[-28:])
    with pytest.raises(InputError, match=r"holed\.bam: (is truncated|corrupt)"):
        count_bam(holed, GTF)


def test_bam_missing_and_duplicate_samples(tmp_path):
    with pytest.raises(InputError, match="alignment file not found"):
        count_bam(tmp_path / "nope.bam", GTF)
    (tmp_path / "x").mkdir()
    shutil.copy(BAMS[0], tmp_path / "x" / "S1.bam")
    with pytest.raises(MtncrnaError, match="both give the sample name 'S1'"):
        count_bam([BAMS[0], tmp_path / "x" / "S1.bam"], GTF)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'chr1\tt\texon\t100\t200\t.\t+\tgene_id "X";',
            r"line 2: GTF lines need 9 tab-separated columns, found 8",
        ),
        (
            'chr1\tt\texon\t1OO\t200\t.\t+\t.\tgene_id "X";',
            r"line 2: start and end must be whole numbers, found '1OO'",
        ),
        (
            'chr1\tt\texon\t300\t200\t.\t+\t.\tgene_id "X";',
            r"line 2: feature chr1:300-200 has start 300 > end 200",
        ),
        (
            'chr1\tt\texon\t100\t200\t.\t+\t.\tgene_name "X";',
            r"line 2: exon line has no 'gene_id' attribute; found gene_name",
        ),
    ],
)
def test_bad_gtf_line(tmp_path, line, message):
    good = 'chr1\tt\texon\t1\t50\t.\t+\t.\tgene_id "A";'
    gtf = write(tmp_path / "bad.gtf", f"{good}\n{line}\n{good}\n")
    with pytest.raises(InputError, match=message):
        read_annotation(gtf)


def test_gtf_fast_reader_agrees_with_line_reader(tmp_path, monkeypatch):
    from mtncrna.quant import _bam

    text = (
        "\ufeff#!genome-build x\r\n"
        '1\tt\texon\t10\t20\t.\t+\t.\tgene_ids "no"; gene_id "A"; gene_name "a";\r\n'
        "\r\n"
        "## comment\n"
        "1\tt\tgene\t5\t900\t.\t-\t.\tgene_id B;\n"
        '1\tt\texon\t30\t40\t.\t - \t.\txgene_id "no";gene_id B ; gene_type "lnc"\n'
        '2\tt\texon\t 7 \t8\t.\t?\t.\tgene_id "A"\n'
        '1\tt\texon\t50\t60\t.\t+\t.\tgene_id "C;D"; note "x"'  # no final newline
    )
    path = write(tmp_path / "tricky.gtf.gz", text, gz=True)
    monkeypatch.setattr(_bam, "_TEXT_CHUNK", 64)  # records cut across chunks
    fast = _bam._read_gtf_fast(path, "exon", "gene_id")
    slow = _bam._read_lines(path, "gtf", "exon", "gene_id")
    assert fast is not None
    for a, b in zip(fast[:5], slow[:5], strict=True):
        assert [str(x) for x in a] == [str(x) for x in b]
    assert fast[5] == slow[5] == {"A": {"gene_name": "a"}, "B": {"gene_biotype": "lnc"}, "C;D": {}}
    ann = read_annotation(path)
    assert ann.features == ["A", "B", "C;D"]
    assert ann.exons["strand"].tolist() == ["+", "-", ".", "+"]
    assert ann.var.loc["A", "Chr"] == "1;2" and ann.var.loc["A", "Length"] == 13


def test_bad_saf_and_empty_annotation(tmp_path):
    saf = write(
        tmp_path / "bad.saf",
        "GeneID\tChr\tStart\tEnd\tStrand\nA\tchr1\t1\t50\t+\nB\tchr1\tx\t9\t+\n",
    )
    with pytest.raises(InputError, match=r"bad\.saf, line 3: start and end must be whole numbers"):
        read_annotation(saf)
    gtf = write(tmp_path / "genes_only.gtf", 'chr1\tt\tgene\t1\t50\t.\t+\t.\tgene_id "A";\n')
    with pytest.raises(InputError, match="has no 'exon' lines"):
        read_annotation(gtf)
    assert len(read_annotation(gtf, feature_type="gene")) == 1


def test_bad_options(tiny):
    bam, gtf = tiny
    with pytest.raises(MtncrnaError, match="strand must be one of"):
        count_bam(bam, gtf, strand="yes")
    with pytest.raises(MtncrnaError, match="multimap must be one of"):
        count_bam(bam, gtf, multimap="some")


# --------------------------------------------------------------------------------------------
# against the real featureCounts, where it is installed
# --------------------------------------------------------------------------------------------

CIGARS = [
    "50M",
    "50M",
    "50M",
    "20M5D30M",
    "10M2I38M",
    "25M300N25M",
    "5S45M",
    "45M5S",
    "10M1I2D39M",
    "4M1D4M1D4M1D4M1D4M1D4M1D4M1D4M1D4M1D4M1D4M1D6M",
    "20M2N30M",
    "30M100N10M100N10M",
    "3N47M",
    "25=25X",
    "50M",
]


def random_world(tmp_path: Path, n_reads: int = 3000, seed: int = 7) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    lines = []
    g = 0
    for chrom, length in (("chr1", 20000), ("chr2", 8000), ("chrM", 16569)):
        pos = 50
        while pos < length - 800:
            g += 1
            strand = rng.choice(["+", "-", "+", "-", "."])
            s = pos
            for _ in range(int(rng.integers(1, 4))):
                e = s + int(rng.integers(20, 250))
                lines.append(f'{chrom}\tt\texon\t{s}\t{e}\t.\t{strand}\t.\tgene_id "g{g}";')
                s = e + 1 + int(rng.integers(0, 150))  # bookended exons too
            # overlap the next gene now and then
            pos = (
                s - int(rng.integers(0, 120))
                if rng.random() < 0.4
                else s + int(rng.integers(1, 300))
            )
    gtf = write(tmp_path / "random.gtf", "\n".join(lines) + "\n")
    reads = []
    for i in range(n_reads):
        chrom = rng.choice(["chr1", "chr2", "chrM"], p=[0.6, 0.3, 0.1])
        length = {"chr1": 20000, "chr2": 8000, "chrM": 16569}[chrom]
        pos = int(rng.integers(1, length - 700))
        cigar = rng.choice(CIGARS)
        flag = 16 if rng.random() < 0.5 else 0
        mapq = int(rng.choice([0, 1, 3, 10, 30, 60, 255]))
        u = rng.random()
        if u < 0.03:
            reads.append(sam_line(f"r{i}", 4, "*", 0, "*", tags=""))
        elif u < 0.15:
            nh = int(rng.integers(2, 5))
            for h in range(nh):
                p = pos if h == 0 else int(rng.integers(1, 7000))
                reads.append(
                    sam_line(
                        f"r{i}",
                        flag | (256 if h else 0),
                        chrom if h == 0 else "chr2",
                        p,
                        cigar,
                        mapq=mapq,
                        tags=f"NH:i:{nh}\tHI:i:{h + 1}",
                    )
                )
        elif u < 0.2:
            reads.append(sam_line(f"r{i}", flag | 2048, chrom, pos, cigar, mapq=mapq, tags=""))
        else:
            reads.append(sam_line(f"r{i}", flag, chrom, pos, cigar, mapq=mapq))
    return make_bam(tmp_path / "random.bam", reads), gtf


@pytest.mark.skipif(shutil.which("featureCounts") is None, reason="featureCounts not installed")
@pytest.mark.parametrize(
    ("fc_args", "kwargs"),
    [
        ([], {}),
        (["-s", "1"], {"strand": "forward"}),
        (["-s", "2"], {"strand": "reverse"}),
        (["-M"], {"multimap": "all"}),
        (["-M", "--fraction"], {"multimap": "fraction"}),
        (["-O"], {"allow_multi_overlap": True}),
        (
            ["-O", "-M", "--fraction", "-s", "1"],
            {"allow_multi_overlap": True, "multimap": "fraction", "strand": "forward"},
        ),
        (["-Q", "10", "-M"], {"min_mapq": 10, "multimap": "all"}),
        (["-M", "--primary", "--fraction"], {"multimap": "fraction", "primary_only": True}),
    ],
)
def test_against_featurecounts(tmp_path, fc_args, kwargs):
    bam, gtf = random_world(tmp_path)
    out = tmp_path / "fc.txt"
    subprocess.run(
        ["featureCounts", *fc_args, "-a", str(gtf), "-o", str(out), str(bam)],
        check=True,
        capture_output=True,
    )
    _, expected, summary = read_fc(out)
    result = count_bam(bam, gtf, **kwargs)
    ours = result.counts["random"]
    if kwargs.get("multimap") == "fraction":
        np.testing.assert_array_equal(np.round(ours.to_numpy(), 2), expected["random"].to_numpy())
    else:
        np.testing.assert_array_equal(ours.to_numpy(), expected["random"].to_numpy())
    pd.testing.assert_series_equal(result.summary["random"], summary["random"], check_names=False)
    assert result.summary.loc["Assigned", "random"] > 500
