#!/usr/bin/env Rscript
## R's random streams and loess() for mtncrna's dispersion prior variance (residual df 1-3),
## where DESeq2 draws with set.seed(2) and smooths with loess(span = 0.2).
## Usage (from the repository root): Rscript tests/data/golden/r_rng/make_r_rng.R
## Deterministic: two runs write identical files. R 4.2.2 (Debian 12), default RNGkind().
file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
out <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else "."
fmt <- function(x) sprintf("%.17g", x)
draws <- list()
set.seed(2); draws$runif <- runif(1000)
set.seed(2); draws$rnorm <- rnorm(1000)
set.seed(2); draws$rexp <- rexp(1000)
for (df in 1:3) { set.seed(2); draws[[paste0("rchisq_df", df)]] <- rchisq(1000, df) }
## DESeq2's pattern: chi-square then normal draws, including sd = 0 (no draw in R)
set.seed(2)
draws$mixed <- c(rchisq(300, 2), rnorm(300, 0, 0), rchisq(200, 2), rnorm(200, 0, 0.5))
writeLines(c(paste(names(draws), collapse = "\t"),
             do.call(paste, c(lapply(draws, fmt), sep = "\t"))), file.path(out, "draws.tsv"))
## loess(span = 0.2) on a wiggly curve, predicted on a finer grid, as DESeq2 uses it
x <- seq(from = 0, to = 8, length = 200)
y <- sin(3 * x) / (1 + x) + ((seq_along(x) * 7919) %% 101) / 500
fine <- seq(from = 0, to = 8, length = 1000)
p <- predict(loess(y ~ x, span = 0.2), fine)
writeLines(c("x\ty", paste(fmt(x), fmt(y), sep = "\t")), file.path(out, "loess_input.tsv"))
writeLines(c("x\tfit", paste(fmt(fine), fmt(p), sep = "\t")), file.path(out, "loess_fit.tsv"))
