#!/usr/bin/env Rscript
## Golden VSTs of R DESeq2 with the non-parametric trends (fitType "local" and "mean"),
## for tests/test_engine_golden.py. Same R/DESeq2 as make_golden.R (versions.txt).
##
##   Rscript tests/data/golden/make_vst_golden.R
##
## Writes tests/data/golden/vst/<dataset>_<fitType>.tsv.gz (features x samples, blind VST)
## and vst/README.txt (which R function made each: vst() with nsub = 1000 where the dataset
## has >= 1000 features with mean normalized count > 5, else varianceStabilizingTransformation()).
suppressPackageStartupMessages(library(DESeq2))
golden <- "tests/data/golden"
out <- file.path(golden, "vst")
dir.create(out, showWarnings = FALSE)
log <- c()
for (ds in c("pasilla", "thyroid_mirna")) {
  counts <- as.matrix(read.delim(gzfile(file.path(golden, ds, "counts.tsv.gz")),
                                 row.names = 1, check.names = FALSE))
  coldata <- read.delim(file.path(golden, ds, "coldata.tsv"), row.names = 1)
  counts <- counts[, rownames(coldata)]
  dds <- DESeqDataSetFromMatrix(counts, coldata, design = ~ 1)
  dds <- estimateSizeFactors(dds)
  many <- sum(rowMeans(counts(dds, normalized = TRUE)) > 5) >= 1000
  for (ft in c("local", "mean")) {
    vsd <- if (many) vst(dds, blind = TRUE, fitType = ft) else
      varianceStabilizingTransformation(dds, blind = TRUE, fitType = ft)
    m <- assay(vsd)
    df <- data.frame(feature_id = rownames(m), apply(m, 2, function(x) sprintf("%.12g", x)),
                     check.names = FALSE)
    con <- gzfile(file.path(out, sprintf("%s_%s.tsv.gz", ds, ft)), "w")
    write.table(df, con, sep = "\t", quote = FALSE, row.names = FALSE)
    close(con)
    log <- c(log, sprintf("%s_%s: %s(blind=TRUE, fitType='%s')", ds, ft,
                          if (many) "vst" else "varianceStabilizingTransformation", ft))
  }
}
writeLines(c(sprintf("DESeq2 %s, %s", packageVersion("DESeq2"), R.version.string), log),
           file.path(out, "README.txt"))
