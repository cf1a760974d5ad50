#!/usr/bin/env bash
# Regenerate the count-format fixtures in this directory (see README.md).
#
#   bash make_fixtures.sh [SECTION ...]
#
# SECTION is any of: world featurecounts htseq smrnaseq mirge3 table star
# htseq_star (default: all of them, in that order; featurecounts, htseq,
# star and table need world, table needs featurecounts and htseq_star needs
# star, so run those together).
#
# Tools are taken from PATH. Each can be overridden with a variable:
#   PYTHON=python3 SAMTOOLS=samtools FEATURECOUNTS=featureCounts
#   HTSEQ_COUNT=htseq-count BOWTIE=bowtie BOWTIE_BUILD=bowtie-build
#   SEQCLUSTER=seqcluster MIRTOP=mirtop MIRGE3=miRge3.0 STAR=STAR
# SMRNASEQ_BIN=/path/to/nf-core-smrnaseq/bin runs the pipeline's own R
# helpers (needs Rscript + edgeR, limma, statmod, gplots, data.table, tidyr,
# dplyr, vroom, optparse); if it is unset, smrnaseq_layout.py writes the
# same tables.
# OUT (default: this directory) receives the fixtures, WORK (default: a new
# temporary directory) the intermediate files.
# Everything is seeded; on the tool versions listed in README.md the output
# is byte-identical to the committed files.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$HERE}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/mtncrna-fixtures.XXXXXX")}
PYTHON=${PYTHON:-python3}
SAMTOOLS=${SAMTOOLS:-samtools}
FEATURECOUNTS=${FEATURECOUNTS:-featureCounts}
HTSEQ_COUNT=${HTSEQ_COUNT:-htseq-count}
BOWTIE=${BOWTIE:-bowtie}
BOWTIE_BUILD=${BOWTIE_BUILD:-bowtie-build}
SEQCLUSTER=${SEQCLUSTER:-seqcluster}
MIRTOP=${MIRTOP:-mirtop}
MIRGE3=${MIRGE3:-miRge3.0}
STAR=${STAR:-STAR}
SAMPLES=(S1 S2 S3 S4)
export LC_ALL=C

SECTIONS=("$@")
[ ${#SECTIONS[@]} -eq 0 ] && SECTIONS=(world featurecounts htseq smrnaseq mirge3 table star htseq_star)

log() { echo "[make_fixtures] $*" >&2; }
need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || { log "missing tool: $t"; exit 1; }
    done
}

# ------------------------------------------------------------------ world
# Simulated genome, GTF, alignments (-> sorted, indexed BAM), small-RNA
# reads and miRNA references.
world() {
    need "$PYTHON" "$SAMTOOLS"
    "$PYTHON" "$HERE/simulate_reads.py" "$WORK"
    mkdir -p "$WORK/rna/bam" "$OUT/world" "$OUT/bam"
    cp "$WORK/world/genes.gtf" "$WORK/rna/genes.gtf"
    local s
    for s in "${SAMPLES[@]}"; do
        "$SAMTOOLS" sort --no-PG -o "$WORK/rna/bam/$s.sorted.bam" "$WORK/sam/$s.sam"
        "$SAMTOOLS" index "$WORK/rna/bam/$s.sorted.bam"
        cp "$WORK/rna/bam/$s.sorted.bam" "$WORK/rna/bam/$s.sorted.bam.bai" "$OUT/bam/"
    done
    cp "$WORK/world/genome.fa" "$WORK/world/genes.gtf" "$OUT/world/"
}

BAMS=(bam/S1.sorted.bam bam/S2.sorted.bam bam/S3.sorted.bam bam/S4.sorted.bam)

# ----------------------------------------------------------- featureCounts
featurecounts() {
    need "$FEATURECOUNTS"
    mkdir -p "$OUT/featurecounts"
    (
        cd "$WORK/rna"
        "$FEATURECOUNTS" -a genes.gtf -o counts.txt "${BAMS[@]}" 2> featurecounts.log
        "$FEATURECOUNTS" -Q 10 --extraAttributes gene_name,gene_biotype \
            -a genes.gtf -o counts_q10_extra.txt "${BAMS[@]}" 2>> featurecounts.log
        cp counts.txt counts.txt.summary counts_q10_extra.txt counts_q10_extra.txt.summary \
            "$OUT/featurecounts/"
    )
}

# ----------------------------------------------------------- htseq-count
htseq() {
    need "$HTSEQ_COUNT"
    mkdir -p "$OUT/htseq"
    (
        cd "$WORK/rna"
        local s
        for s in "${SAMPLES[@]}"; do
            "$HTSEQ_COUNT" -f bam -r pos -s no "bam/$s.sorted.bam" genes.gtf \
                > "$OUT/htseq/$s.txt" 2> "htseq_$s.log"
        done
        "$HTSEQ_COUNT" -f bam -r pos -s no "${BAMS[@]}" genes.gtf \
            > "$OUT/htseq/multi.tsv" 2> htseq_multi.log
        "$HTSEQ_COUNT" --with-header -f bam -r pos -s no "${BAMS[@]}" genes.gtf \
            > "$OUT/htseq/multi_with_header.tsv" 2> htseq_multi_with_header.log
    )
}

# miRBase FASTA -> what nf-core/smrnaseq's PARSE/FORMAT_FASTA_MIRNA make of
# it: name up to the first blank, U -> T, one line per sequence.
format_mirbase_fasta() {
    sed 's/[[:space:]].*//' "$1" |
        awk '/^>/ { if (s != "") print s; print; s = ""; next } { s = s $0 } END { if (s != "") print s }' |
        sed '/^>/!y/Uu/Tt/' > "$2"
}

BOWTIE_SMRNASEQ_ARGS=(-t -k 50 --best --strata -e 99999 --chunkmbs 2048)

# --------------------------------------------------------- nf-core/smrnaseq
# The mirna_quant steps of nf-core/smrnaseq 2.4.1, run by hand with the same
# tools and arguments (see README.md).
smrnaseq() {
    need "$BOWTIE" "$BOWTIE_BUILD" "$SAMTOOLS" "$SEQCLUSTER" "$MIRTOP" gzip
    local d=$WORK/smrnaseq s
    mkdir -p "$d" "$OUT/smrnaseq"
    (
        cd "$d"
        format_mirbase_fasta "$WORK/mirna/mature.fa" mature_idx.fa
        format_mirbase_fasta "$WORK/mirna/hairpin.fa" hairpin_idx.fa
        "$BOWTIE_BUILD" -q mature_idx.fa mature_idx
        "$BOWTIE_BUILD" -q hairpin_idx.fa hairpin_idx
        cp "$WORK/mirna/mirna.gff3" hsa.gff3
        for s in "${SAMPLES[@]}"; do
            # BOWTIE_MAP_MATURE -> BAM_STATS_MATURE (meta.id = S1_mature)
            "$BOWTIE" --threads 1 --sam -x mature_idx -q --un "${s}_mature.unmapped.fastq" \
                "${BOWTIE_SMRNASEQ_ARGS[@]}" "$WORK/mirna/$s.fastq" 2> "${s}_mature.out" |
                "$SAMTOOLS" view -bS -o "${s}_mature.bam" -
            "$SAMTOOLS" sort -o "${s}_mature.sorted.bam" "${s}_mature.bam"
            "$SAMTOOLS" index "${s}_mature.sorted.bam"
            "$SAMTOOLS" idxstats "${s}_mature.sorted.bam" > "${s}_mature.sorted.idxstats"
            # BOWTIE_MAP_HAIRPIN on what did not map to mature (meta.id = S1_mature_hairpin)
            "$BOWTIE" --threads 1 --sam -x hairpin_idx -q "${BOWTIE_SMRNASEQ_ARGS[@]}" \
                "${s}_mature.unmapped.fastq" 2> "${s}_mature_hairpin.out" |
                "$SAMTOOLS" view -bS -o "${s}_mature_hairpin.bam" -
            "$SAMTOOLS" sort -o "${s}_mature_hairpin.sorted.bam" "${s}_mature_hairpin.bam"
            "$SAMTOOLS" index "${s}_mature_hairpin.sorted.bam"
            "$SAMTOOLS" idxstats "${s}_mature_hairpin.sorted.bam" > "${s}_mature_hairpin.sorted.idxstats"
            # SEQCLUSTER_COLLAPSE -> BOWTIE_MAP_SEQCLUSTER (BAM named after meta.id = S1)
            gzip -n -c "$WORK/mirna/$s.fastq" > "$s.fastq.gz"
            rm -rf collapsed
            "$SEQCLUSTER" collapse -m 1 --min_size 15 -f "$s.fastq.gz" -o collapsed > "seqcluster_$s.log" 2>&1
            gzip -n collapsed/*_trimmed.fastq
            mv collapsed/*_trimmed.fastq.gz "${s}_seqcluster.fastq.gz"
            "$BOWTIE" --threads 1 --sam -x hairpin_idx -q "${BOWTIE_SMRNASEQ_ARGS[@]}" \
                "${s}_seqcluster.fastq.gz" 2> "$s.out" |
                "$SAMTOOLS" view -bS -o "$s.bam" -
            # MIRTOP_GFF, MIRTOP_COUNTS (ext.args --add-extra)
            rm -rf mirtop
            "$MIRTOP" gff --sps hsa --hairpin hairpin_idx.fa --gtf hsa.gff3 -o mirtop "$s.bam" > "mirtop_gff_$s.log" 2>&1
            mv mirtop/mirtop.gff "${s}_mirtop.gff"
            "$MIRTOP" counts --add-extra --hairpin hairpin_idx.fa --gtf hsa.gff3 --sps hsa \
                --gff "${s}_mirtop.gff" -o counts > "mirtop_counts_$s.log" 2>&1
        done
        local idx=() tsv=()
        for s in "${SAMPLES[@]}"; do idx+=("${s}_mature.sorted.idxstats"); done
        for s in "${SAMPLES[@]}"; do idx+=("${s}_mature_hairpin.sorted.idxstats"); done
        for s in "${SAMPLES[@]}"; do tsv+=("counts/${s}_mirtop.tsv"); done
        mkdir -p edger merge
        if [ -n "${SMRNASEQ_BIN:-}" ]; then
            # EDGER_QC
            (cd edger && cp "${idx[@]/#/../}" . && Rscript "$SMRNASEQ_BIN/edgeR_miRBase.r" "${idx[@]}" > edger.log 2>&1)
            # PIVOT_LONGER, PIVOT_WIDER, DATATABLE_MERGE
            (
                cd merge
                for s in "${SAMPLES[@]}"; do
                    Rscript "$SMRNASEQ_BIN/pivot_longer.R" --input "../counts/${s}_mirtop.tsv" \
                        --output "${s}_long.csv" > "pivot_longer_$s.log" 2>&1
                done
                awk 'NR == 1 || FNR > 1' S1_long.csv S2_long.csv S3_long.csv S4_long.csv > final_long_results_temp.csv
                Rscript "$SMRNASEQ_BIN/pivot_wider.R" --input final_long_results_temp.csv \
                    --output Long_Files_concatenated_temp.csv > pivot_wider.log 2>&1
                sort -t$'\t' -k1,1 Long_Files_concatenated_temp.csv > joined_samples_mirtop.tsv
                Rscript "$SMRNASEQ_BIN/collapse_mirtop.r" joined_samples_mirtop.tsv > collapse.log 2>&1
            )
        else
            log "SMRNASEQ_BIN unset: writing the smrnaseq tables with smrnaseq_layout.py"
            "$PYTHON" "$HERE/smrnaseq_layout.py" mature-counts edger/mature_counts.csv "${idx[@]}"
            "$PYTHON" "$HERE/smrnaseq_layout.py" mirtop-join merge "${tsv[@]}"
        fi
        cp edger/mature_counts.csv merge/joined_samples_mirtop.tsv merge/mirna.tsv "$OUT/smrnaseq/"
    )
}

# ------------------------------------------------------------------ miRge3
mirge3() {
    need "$MIRGE3" "$BOWTIE" "$BOWTIE_BUILD" "$SAMTOOLS" gzip
    local d=$WORK/mirge3 s c
    mkdir -p "$d" "$OUT/mirge3"
    (
        cd "$d"
        # a miRge3 library (-lib) holding only the simulated world
        local lib=lib/human
        rm -rf lib out && mkdir -p "$lib/index.Libs" "$lib/annotation.Libs" "$lib/fasta.Libs" out fastq bin
        format_mirbase_fasta "$WORK/mirna/mature.fa" "$lib/fasta.Libs/human_mirna_miRBase.fa"
        format_mirbase_fasta "$WORK/mirna/hairpin.fa" hairpin.fa
        "$BOWTIE_BUILD" -q "$lib/fasta.Libs/human_mirna_miRBase.fa" "$lib/index.Libs/human_mirna_miRBase"
        "$BOWTIE_BUILD" -q hairpin.fa "$lib/index.Libs/human_hairpin_miRBase"
        for c in mature_trna pre_trna snorna rrna ncrna_others mrna; do
            "$BOWTIE_BUILD" -q "$WORK/mirna/other_small_rna/$c.fa" "$lib/index.Libs/human_$c"
        done
        # miRBase miRNAs with one mature sequence, reported as one row
        printf '%s\n' 'hsa-let-7a-5p/7c-5p,hsa-let-7a-5p,hsa-let-7c-5p' \
            'hsa-miR-27a-3p/27b-3p,hsa-miR-27a-3p,hsa-miR-27b-3p' > "$lib/annotation.Libs/human_merges_miRBase.csv"
        for s in "${SAMPLES[@]}"; do gzip -n -c "$WORK/mirna/$s.fastq" > "fastq/$s.fastq.gz"; done
        # miRge3 reads `samtools --version` as UTF-8; Debian's build prints
        # Latin-1 bytes in its build flags. Hand it the first two lines only.
        local real_samtools
        real_samtools=$(command -v "$SAMTOOLS")
        printf '#!/bin/sh\nif [ "$1" = "--version" ]; then "%s" --version | head -n 2; else exec "%s" "$@"; fi\n' \
            "$real_samtools" "$real_samtools" > bin/samtools
        chmod +x bin/samtools
        # miRge3 asks `cutadapt --version` but trims with the cutadapt module
        # it imports: put its own environment's bin/ first so both agree
        local mirge_bin
        mirge_bin=$(dirname "$(command -v "$MIRGE3")")
        PATH="$d/bin:$mirge_bin:$PATH" "$MIRGE3" -s fastq/S1.fastq.gz,fastq/S2.fastq.gz,fastq/S3.fastq.gz,fastq/S4.fastq.gz \
            -lib lib -on human -db miRBase -a illumina -cpu 1 -o out > mirge3.log 2>&1
        local run
        run=$(ls -d out/miRge.* | tail -n 1)
        cp "$run/miR.Counts.csv" "$run/miR.RPM.csv" "$OUT/mirge3/"
    )
}

# ------------------------------------------------------------ plain tables
# Gene x sample integer tables derived from featureCounts' counts.txt.
table() {
    need "$PYTHON" gzip
    mkdir -p "$OUT/table"
    "$PYTHON" - "$OUT/featurecounts/counts.txt" "$OUT/table" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
rows = [l.rstrip("\n").split("\t") for l in open(src) if not l.startswith("#")]
head, body = rows[0], rows[1:]
samples = [os.path.basename(h).split(".")[0] for h in head[6:]]
table = [[r[0]] + r[6:] for r in body]
with open(os.path.join(out, "counts.tsv"), "w", newline="") as fh:
    fh.write("\t".join(["gene_id"] + samples) + "\n")
    for r in table:
        fh.write("\t".join(r) + "\n")
with open(os.path.join(out, "counts_crlf_bom.csv"), "w", newline="", encoding="utf-8-sig") as fh:
    fh.write(",".join('"%s"' % h for h in ["gene_id"] + samples) + "\r\n")
    for r in table:
        fh.write(",".join(r) + "\r\n")
PY
    gzip -n -9 -c "$OUT/table/counts.tsv" > "$OUT/table/counts.tsv.gz"
}

# ------------------------------------------------------------------- STAR
# STAR --quantMode GeneCounts on the simulated reads, as three libraries:
# unstranded (the SAM's random orientation), forward and reverse stranded
# (stranded_fastq.py). Output prefix star_<mode>/S1/ (STAR's own layout) and,
# for the reverse library, also nf-core/rnaseq's star_salmon/S1. prefix.
star() {
    need "$STAR" "$PYTHON"
    local d=$WORK/star s m
    mkdir -p "$d/index"
    (
        cd "$d"
        "$STAR" --runMode genomeGenerate --runThreadN 1 --genomeDir index \
            --genomeFastaFiles "$WORK/world/genome.fa" --sjdbGTFfile "$WORK/world/genes.gtf" \
            --sjdbOverhang 49 --genomeSAindexNbases 4 --outFileNamePrefix index/ > genome.log
        for m in unstranded forward reverse; do
            for s in "${SAMPLES[@]}"; do
                "$PYTHON" "$HERE/stranded_fastq.py" "$WORK/sam/$s.sam" "$m" "${s}_$m.fastq"
                mkdir -p "star_$m/$s" "$OUT/star/star_$m/$s"
                "$STAR" --runThreadN 1 --genomeDir index --readFilesIn "${s}_$m.fastq" \
                    --quantMode GeneCounts --outSAMtype BAM SortedByCoordinate \
                    --outFileNamePrefix "star_$m/$s/" > "star_${m}_$s.log"
                cp "star_$m/$s/ReadsPerGene.out.tab" "$OUT/star/star_$m/$s/"
            done
        done
        mkdir -p "$OUT/star/star_salmon"
        for s in "${SAMPLES[@]}"; do
            cp "star_reverse/$s/ReadsPerGene.out.tab" "$OUT/star/star_salmon/$s.ReadsPerGene.out.tab"
        done
        # a user's `cut`: STAR's reverse column only (N_* lines kept)
        cut -f1,4 star_reverse/S1/ReadsPerGene.out.tab > "$OUT/star/S1.reverse.cut.tab"
    )
}

# ------------------------------------------------- htseq-count on STAR BAMs
# htseq-count run once on the four STAR BAMs of the reverse-stranded library
# (paths in STAR's layout): no header; --with-header; --additional-attr; and
# its -c output as .h5ad (needs anndata in htseq's environment).
htseq_star() {
    need "$HTSEQ_COUNT"
    local d=$WORK/star
    mkdir -p "$OUT/htseq_star"
    (
        cd "$d"
        local bams=() s
        for s in "${SAMPLES[@]}"; do bams+=("star_reverse/$s/Aligned.sortedByCoord.out.bam"); done
        "$HTSEQ_COUNT" -f bam -r pos -s reverse "${bams[@]}" "$WORK/world/genes.gtf" \
            > "$OUT/htseq_star/multi.tsv" 2> htseq_star.log
        "$HTSEQ_COUNT" --with-header -f bam -r pos -s reverse "${bams[@]}" "$WORK/world/genes.gtf" \
            > "$OUT/htseq_star/multi_with_header.tsv" 2>> htseq_star.log
        "$HTSEQ_COUNT" -f bam -r pos -s reverse --additional-attr gene_name \
            --additional-attr gene_biotype "${bams[@]}" "$WORK/world/genes.gtf" \
            > "$OUT/htseq_star/multi_additional_attr.tsv" 2>> htseq_star.log
        "$HTSEQ_COUNT" --with-header -f bam -r pos -s reverse --additional-attr gene_name \
            "${bams[@]}" "$WORK/world/genes.gtf" \
            > "$OUT/htseq_star/multi_with_header_attr.tsv" 2>> htseq_star.log
        rm -f "$OUT/htseq_star/counts.h5ad"
        "$HTSEQ_COUNT" -f bam -r pos -s reverse -c "$OUT/htseq_star/counts.h5ad" \
            "${bams[@]}" "$WORK/world/genes.gtf" 2>> htseq_star.log
        # htseq output without its __ lines (a headerless two-column file)
        grep -v '^__' "$OUT/htseq/S1.txt" > "$OUT/htseq_star/S1.no_counters.txt"
    )
}

log "work directory: $WORK"
for section in "${SECTIONS[@]}"; do
    case $section in
        world | featurecounts | htseq | smrnaseq | mirge3 | table | star | htseq_star)
            log "$section"
            if [ "$section" != world ] && [ "$section" != table ] && [ ! -d "$WORK/mirna" ]; then
                log "no world in $WORK: run the world section first (or set WORK)"
                exit 1
            fi
            "$section"
            ;;
        *) log "unknown section: $section"; exit 2 ;;
    esac
done
log "done"
