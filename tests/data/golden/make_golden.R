#!/usr/bin/env Rscript
## Golden outputs of R DESeq2 for testing mtncrna's own Python DESeq2 engine.
##
## Usage (from the repository root):
##   Rscript tests/data/golden/make_golden.R
## or give the golden directory explicitly:
##   Rscript tests/data/golden/make_golden.R path/to/tests/data/golden
##
## Needs R with DESeq2 (Debian 12: `apt-get install -y r-bioc-deseq2`, which
## brings DESeq2 1.38.3 on R 4.2.2) and jsonlite (pulled in by the same).
## Inputs, per dataset directory: counts.tsv.gz (feature_id + integer counts,
## features x samples) and coldata.tsv (sample + factors). Everything else in
## the dataset directories is written by this script. All computations are
## deterministic (DESeq2 defaults; the only random step inside DESeq2, the
## Monte-Carlo dispersion prior variance used when residual df <= 3, seeds
## itself with set.seed(2)); only timings.txt changes from run to run.

t_script <- proc.time()
suppressPackageStartupMessages({
  library(DESeq2)
})
set.seed(1)

args <- commandArgs(trailingOnly = TRUE)
if (length(args) >= 1) {
  golden <- args[1]
} else {
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  golden <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else "tests/data/golden"
}
golden <- normalizePath(golden)
cat("golden directory:", golden, "\n")

MIN_DISP <- 1e-8  # DESeq2 default minDisp

## ---------------------------------------------------------------- writers --

fmt_num <- function(x) {
  out <- sprintf("%.17g", x)
  out[is.na(x)] <- "NA"
  out[is.nan(x)] <- "NaN"
  out
}

fmt_col <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.logical(x)) {
    out <- ifelse(x, "TRUE", "FALSE")
    out[is.na(x)] <- "NA"
    return(out)
  }
  if (is.integer(x)) {
    out <- as.character(x)
    out[is.na(x)] <- "NA"
    return(out)
  }
  if (is.numeric(x)) return(fmt_num(x))
  out <- as.character(x)
  out[is.na(x)] <- "NA"
  out
}

## df: data.frame; first column is written as given (ids). Gzipped if path ends in .gz.
write_tsv <- function(df, path) {
  df <- as.data.frame(df, stringsAsFactors = FALSE, optional = TRUE)
  cols <- lapply(df, fmt_col)
  lines <- do.call(paste, c(cols, sep = "\t"))
  con <- if (grepl("\\.gz$", path)) gzfile(path, "w", compression = 9) else file(path, "w")
  writeLines(paste(names(df), collapse = "\t"), con)
  writeLines(lines, con)
  close(con)
  invisible(path)
}

## Minimal JSON writer with full double precision (jsonlite stops at 15 digits).
to_json <- function(x, indent = 0) {
  pad <- strrep("  ", indent + 1)
  pad0 <- strrep("  ", indent)
  scalar <- function(v) {
    if (is.null(v) || length(v) == 0) return("null")
    if (is.na(v)) return("null")
    if (is.logical(v)) return(if (v) "true" else "false")
    if (is.numeric(v)) {
      if (is.infinite(v)) return(encodeString(as.character(v), quote = "\""))
      if (is.integer(v)) return(as.character(v))
      return(sprintf("%.17g", v))
    }
    encodeString(as.character(v), quote = "\"")
  }
  if (is.null(x)) return("null")
  if (is.factor(x)) x <- as.character(x)
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    nm <- names(x)
    items <- vapply(seq_along(x), function(i) to_json(x[[i]], indent + 1), "")
    if (!is.null(nm)) {
      items <- paste0(encodeString(nm, quote = "\""), ": ", items)
      return(paste0("{\n", pad, paste(items, collapse = paste0(",\n", pad)), "\n", pad0, "}"))
    }
    return(paste0("[\n", pad, paste(items, collapse = paste0(",\n", pad)), "\n", pad0, "]"))
  }
  if (length(x) == 1 && is.null(names(x))) return(scalar(x))
  if (!is.null(names(x))) return(to_json(as.list(x), indent))
  paste0("[", paste(vapply(x, scalar, ""), collapse = ", "), "]")
}

write_json <- function(x, path) writeLines(to_json(x), path)

## --------------------------------------------------------------- helpers --

read_dataset <- function(dir) {
  cts <- read.delim(gzfile(file.path(dir, "counts.tsv.gz")), check.names = FALSE,
                    stringsAsFactors = FALSE)
  ids <- cts[[1]]
  cts <- as.matrix(cts[, -1, drop = FALSE])
  storage.mode(cts) <- "integer"
  rownames(cts) <- ids
  cd <- read.delim(file.path(dir, "coldata.tsv"), check.names = FALSE,
                   stringsAsFactors = FALSE)
  rownames(cd) <- cd$sample
  stopifnot(identical(colnames(cts), cd$sample))
  list(counts = cts, coldata = cd)
}

## Re-run DESeq2's parametric trend iteration (y = asymptDisp + extraPois / mean,
## Gamma-family GLM with identity link, refitting on genes whose residual
## disp / fit lies in (1e-4, 15)) to record which genes entered the final fit.
trace_parametric_fit <- function(means, disps) {
  coefs <- c(0.1, 1)
  iter <- 0
  trace <- list()
  repeat {
    residuals <- disps / (coefs[1] + coefs[2] / means)
    good <- (residuals > 1e-4) & (residuals < 15)
    fit <- suppressWarnings(glm(disps[good] ~ I(1 / means[good]),
                                family = Gamma(link = "identity"), start = coefs))
    old <- coefs
    coefs <- unname(coefficients(fit))
    trace[[length(trace) + 1]] <- list(iteration = iter, n_good = sum(good),
                                       asymptDisp = coefs[1], extraPois = coefs[2],
                                       glm_converged = fit$converged,
                                       glm_iterations = fit$iter)
    if (!all(coefs > 0)) return(list(ok = FALSE, trace = trace, good = good))
    if ((sum(log(coefs / old)^2) < 1e-6) & fit$converged) break
    iter <- iter + 1
    if (iter > 10) return(list(ok = FALSE, trace = trace, good = good))
  }
  list(ok = TRUE, coefs = coefs, good = good, trace = trace)
}

capture_log <- function(expr, log_env) {
  withCallingHandlers(expr,
    message = function(m) {
      log_env$lines <- c(log_env$lines, paste0("message: ", trimws(conditionMessage(m))))
      invokeRestart("muffleMessage")
    },
    warning = function(w) {
      log_env$lines <- c(log_env$lines, paste0("warning: ", trimws(conditionMessage(w))))
      invokeRestart("muffleWarning")
    })
}

res_df <- function(res) {
  data.frame(feature_id = rownames(res), as.data.frame(res), check.names = FALSE,
             stringsAsFactors = FALSE)
}

filter_info <- function(res) {
  md <- metadata(res)
  out <- list(alpha = md$alpha)
  if (!is.null(md$filterThreshold)) {
    out$filterThreshold <- unname(md$filterThreshold)
    out$filterThreshold_quantile <- names(md$filterThreshold)
    out$filterTheta <- md$filterTheta
    out$filterNumRej <- list(theta = md$filterNumRej$theta, numRej = md$filterNumRej$numRej)
    if (!is.null(md$lo.fit)) out$lo_fit <- list(x = md$lo.fit$x, y = md$lo.fit$y)
  }
  out
}

## Counts of why pvalue / padj are NA (Cook's filtering vs. independent filtering).
na_summary <- function(res, dds, cooks_cutoff) {
  all_zero <- mcols(dds)$allZero
  max_cooks <- mcols(dds)$maxCooks
  cooks_out <- !all_zero & !is.na(max_cooks) & max_cooks > cooks_cutoff
  list(
    n_features = nrow(res),
    n_allZero = sum(all_zero),
    n_pvalue_NA = sum(is.na(res$pvalue)),
    n_cooks_outlier = sum(cooks_out),
    n_pvalue_NA_cooks = sum(is.na(res$pvalue) & cooks_out),
    n_padj_NA = sum(is.na(res$padj)),
    n_independently_filtered = sum(is.na(res$padj) & !is.na(res$pvalue)),
    n_padj_below_alpha = sum(!is.na(res$padj) & res$padj < metadata(res)$alpha)
  )
}

## ------------------------------------------------------------- analysis --

## One design on one dataset. Writes into <dataset>/<name>/.
## contrast: character(3) for results(contrast=) or NULL to use `res_name`.
run_analysis <- function(ds, dataset_dir, name, design, reduced, contrast = NULL,
                         res_name = NULL, shrink_normal = TRUE, do_vst = FALSE,
                         write_cooks = FALSE, deseq_args = list(), extra_results = list()) {
  out <- file.path(dataset_dir, name)
  dir.create(out, showWarnings = FALSE, recursive = TRUE)
  log_env <- new.env()
  log_env$lines <- character(0)
  t_all <- proc.time()
  cat("==", basename(dataset_dir), "/", name, ":", deparse(design), "\n")

  dds0 <- capture_log(DESeqDataSetFromMatrix(ds$counts, ds$coldata, design = design), log_env)
  mm <- model.matrix(design(dds0), as.data.frame(colData(dds0)))
  m <- nrow(mm); p <- ncol(mm)
  write_tsv(data.frame(sample = rownames(mm), mm, check.names = FALSE),
            file.path(out, "design_matrix.tsv"))

  ## --- Wald (default DESeq) ---
  t_deseq <- system.time(dds <- capture_log(do.call(DESeq, c(list(dds0), deseq_args)), log_env))
  rn <- resultsNames(dds)
  write_tsv(data.frame(sample = colnames(dds), sizeFactor = sizeFactors(dds)),
            file.path(out, "sizeFactors.tsv"))

  mc <- mcols(dds)
  disp_cols <- intersect(c("baseMean", "baseVar", "allZero", "dispGeneEst", "dispGeneIter",
                           "dispFit", "dispMAP", "dispersion", "dispIter", "dispOutlier",
                           "maxCooks"), colnames(mc))
  write_tsv(data.frame(feature_id = rownames(dds), as.data.frame(mc[, disp_cols]),
                       check.names = FALSE),
            file.path(out, "dispersions.tsv.gz"))
  ## the other per-gene columns DESeq() left in mcols: the coefficients (log2
  ## scale) and their SEs for every resultsName, deviance, betaConv, betaIter,
  ## replace. Wald statistics/p-values per coefficient are left out (they are
  ## beta/SE and 2*pnorm(-|stat|)), as are the columns of dispersions.tsv.gz.
  coef_cols <- setdiff(colnames(mc), c(disp_cols, grep("^Wald(Statistic|Pvalue)_", colnames(mc), value = TRUE)))
  write_tsv(data.frame(feature_id = rownames(dds), as.data.frame(mc[, coef_cols]), check.names = FALSE),
            file.path(out, "coef_wald.tsv.gz"))

  ## --- trend fit and prior ---
  df_fun <- dispersionFunction(dds)
  fit_type <- attr(df_fun, "fitType")
  ## The trend and prior are fitted before outlier replacement; after it,
  ## mcols(dds) holds re-estimated dispGeneEst for the replaced genes. So take
  ## the gene-wise estimates the trend saw from estimateDispersions() run alone.
  fit_type_arg <- if (!is.null(deseq_args$fitType)) deseq_args$fitType else "parametric"
  dds_pre <- capture_log(estimateDispersions(estimateSizeFactors(dds0), fitType = fit_type_arg),
                         new.env())
  mcp <- mcols(dds_pre)
  stopifnot(isTRUE(all.equal(attr(dispersionFunction(dds_pre), "coefficients"),
                             attr(df_fun, "coefficients"), tolerance = 0)))
  nz <- !mcp$allZero
  use_for_fit <- nz & !is.na(mcp$dispGeneEst) & mcp$dispGeneEst > 100 * MIN_DISP
  above_min_prior <- nz & !is.na(mcp$dispGeneEst) & mcp$dispGeneEst >= 100 * MIN_DISP
  fit_json <- list(
    fitType = fit_type,
    coefficients = if (!is.null(attr(df_fun, "coefficients"))) as.list(attr(df_fun, "coefficients")) else NULL,
    mean = attr(df_fun, "mean"),
    dispPriorVar = attr(df_fun, "dispPriorVar"),
    varLogDispEsts = attr(df_fun, "varLogDispEsts"),
    minDisp = MIN_DISP,
    n_samples = m, n_coefficients = p, residual_df = m - p,
    prior_var_method = if ((m - p) <= 3 && m > p) "monte_carlo_set.seed(2)" else "mad_minus_trigamma",
    expVarLogDisp_trigamma = if (m > p) trigamma((m - p) / 2) else 0,
    n_nonzero = sum(nz),
    n_useForFit = sum(use_for_fit),
    n_aboveMinDisp_prior = sum(above_min_prior),
    n_dispOutlier = sum(mc$dispOutlier, na.rm = TRUE),
    useForFit_rule = "!allZero & dispGeneEst > 100*minDisp (trend); prior variance uses >= 100*minDisp",
    resultsNames = rn
  )
  used_in_final <- rep(NA, nrow(dds))
  if (identical(fit_type, "parametric")) {
    tr <- trace_parametric_fit(mcp$baseMean[use_for_fit], mcp$dispGeneEst[use_for_fit])
    stopifnot(tr$ok)
    fit_json$parametric_trace <- tr$trace
    fit_json$n_used_in_final_parametric_glm <- sum(tr$good)
    fit_json$reconstructed_coefficients_max_rel_diff <-
      max(abs(tr$coefs - attr(df_fun, "coefficients")) / abs(attr(df_fun, "coefficients")))
    used_in_final <- rep(FALSE, nrow(dds))
    used_in_final[which(use_for_fit)[tr$good]] <- TRUE
  }
  write_json(fit_json, file.path(out, "dispersion_fit.json"))
  write_tsv(data.frame(feature_id = rownames(dds), allZero = mc$allZero,
                       useForFit = use_for_fit, aboveMinDispPrior = above_min_prior,
                       usedInFinalParametricFit = used_in_final),
            file.path(out, "fit_mask.tsv.gz"))

  if (write_cooks) {
    write_tsv(data.frame(feature_id = rownames(dds), assays(dds)[["cooks"]], check.names = FALSE),
              file.path(out, "cooks.tsv.gz"))
  }
  n_replaced <- if (!is.null(mc$replace)) sum(mc$replace, na.rm = TRUE) else 0L
  if (n_replaced > 0) {
    ## dispersion columns as they were before replacement and refitting
    write_tsv(data.frame(feature_id = rownames(dds_pre),
                         as.data.frame(mcp[, intersect(disp_cols, colnames(mcp))]),
                         check.names = FALSE),
              file.path(out, "dispersions_before_replace.tsv.gz"))
  }
  if (n_replaced > 0 && "replaceCounts" %in% assayNames(dds)) {
    rc <- assays(dds)[["replaceCounts"]][mc$replace %in% TRUE, , drop = FALSE]
    write_tsv(data.frame(feature_id = rownames(rc), rc, check.names = FALSE),
              file.path(out, "replaceCounts.tsv.gz"))
  }

  ## --- Wald results ---
  res_args <- if (!is.null(contrast)) list(contrast = contrast) else list(name = res_name)
  res <- capture_log(do.call(results, c(list(dds), res_args)), log_env)
  write_tsv(res_df(res), file.path(out, "results_wald.tsv.gz"))
  res_nf <- capture_log(do.call(results, c(list(dds), res_args,
                                           list(independentFiltering = FALSE,
                                                cooksCutoff = FALSE))), log_env)
  write_tsv(res_df(res_nf), file.path(out, "results_wald_nofilter.tsv.gz"))
  cooks_cutoff <- qf(0.99, p, m - p)
  ## further contrasts or coefficients from the same fit: results_wald_<name>.tsv.gz
  extra_summary <- list()
  for (nm in names(extra_results)) {
    rx <- capture_log(do.call(results, c(list(dds), extra_results[[nm]])), log_env)
    write_tsv(res_df(rx), file.path(out, paste0("results_wald_", nm, ".tsv.gz")))
    extra_summary[[nm]] <- c(list(args = extra_results[[nm]]), na_summary(rx, dds, cooks_cutoff))
  }

  ## --- LRT ---
  t_lrt <- system.time(dds_lrt <- capture_log(do.call(DESeq, c(list(dds0, test = "LRT", reduced = reduced),
                                                               deseq_args)), log_env))
  res_lrt <- capture_log(results(dds_lrt), log_env)
  write_tsv(res_df(res_lrt), file.path(out, "results_lrt.tsv.gz"))
  res_lrt_nf <- capture_log(results(dds_lrt, independentFiltering = FALSE, cooksCutoff = FALSE), log_env)
  write_tsv(res_df(res_lrt_nf), file.path(out, "results_lrt_nofilter.tsv.gz"))

  ## --- lfcShrink(type = "normal") ---
  shrink_info <- NULL
  if (shrink_normal) {
    shr_args <- if (!is.null(contrast)) list(contrast = contrast) else list(coef = res_name)
    shr <- capture_log(do.call(lfcShrink, c(list(dds), shr_args, list(type = "normal"))), log_env)
    write_tsv(res_df(shr), file.path(out, "lfc_shrink_normal.tsv.gz"))
    pi <- priorInfo(shr)
    shrink_info <- list(type = pi$type, package = pi$package,
                        betaPriorVar = as.list(pi$betaPriorVar))
  }

  ## --- VST (blind) ---
  vst_info <- NULL
  if (do_vst) {
    vst_fun <- "vst"
    vsd <- tryCatch(capture_log(vst(dds, blind = TRUE), log_env), error = function(e) {
      log_env$lines <- c(log_env$lines, paste0("vst() error, falling back to ",
                                               "varianceStabilizingTransformation(): ",
                                               trimws(conditionMessage(e))))
      NULL
    })
    if (is.null(vsd)) {
      vst_fun <- "varianceStabilizingTransformation"
      vsd <- capture_log(varianceStabilizingTransformation(dds, blind = TRUE), log_env)
    }
    write_tsv(data.frame(feature_id = rownames(vsd), assay(vsd), check.names = FALSE),
              file.path(out, "vst.tsv.gz"))
    ## vst()/varianceStabilizingTransformation() do not keep the trend they
    ## fit, so refit it the same way (design ~1, gene-wise estimates on the
    ## nsub subset for vst() or on all genes otherwise, then the trend with
    ## fitType "parametric", whose fallback to "local" vst() would not report)
    ## and check that it reproduces the transformed matrix exactly.
    obj <- dds
    design(obj) <- ~1
    subset_ids <- NULL
    if (vst_fun == "vst") {
      bm <- rowMeans(counts(obj, normalized = TRUE))
      keep <- which(bm > 5)
      o <- order(bm[keep])
      idx <- keep[o[round(seq(from = 1, to = length(o), length = 1000))]]
      sub <- obj[idx, ]
      subset_ids <- rownames(sub)
    } else {
      sub <- obj
    }
    vlog <- new.env(); vlog$lines <- character(0)
    sub <- capture_log(estimateDispersionsGeneEst(sub, quiet = TRUE), vlog)
    sub <- capture_log(estimateDispersionsFit(sub, fitType = "parametric", quiet = FALSE), vlog)
    vdf <- dispersionFunction(sub)
    suppressMessages(dispersionFunction(obj) <- vdf)
    re_vst <- getVarianceStabilizedData(obj)
    vst_max_abs_diff <- max(abs(re_vst - assay(vsd)))
    if (!is.null(subset_ids)) writeLines(subset_ids, file.path(out, "vst_subset.txt"))
    vst_info <- list(
      "function" = vst_fun, blind = TRUE, nsub = if (vst_fun == "vst") 1000L else NULL,
      n_genes_in_trend_fit = nrow(sub),
      fitType = attr(vdf, "fitType"),
      coefficients = if (!is.null(attr(vdf, "coefficients"))) as.list(attr(vdf, "coefficients")) else NULL,
      mean = attr(vdf, "mean"),
      refit_messages = as.list(vlog$lines),
      refit_reproduces_vst_max_abs_diff = vst_max_abs_diff)
    writeLines(c(attr(vdf, "fitType"),
                 paste0("# function: ", vst_fun, "(dds, blind=TRUE)",
                        if (vst_fun == "vst") " with nsub=1000 (default)" else "")),
               file.path(out, "vst_fit_type.txt"))
    write_json(vst_info, file.path(out, "vst_fit.json"))
  }

  t_all <- proc.time() - t_all
  summary <- list(
    dataset = basename(dataset_dir), analysis = name,
    design = paste(deparse(design), collapse = ""),
    reduced = paste(deparse(reduced), collapse = ""),
    contrast = contrast, results_name = res_name, resultsNames = rn,
    factor_levels = lapply(Filter(is.factor, as.list(as.data.frame(colData(dds)))), levels),
    n_samples = m, n_coefficients = p,
    cooksCutoff = cooks_cutoff,
    minReplicatesForReplace = if (!is.null(deseq_args$minReplicatesForReplace)) deseq_args$minReplicatesForReplace else 7L,
    n_replaced_outlier_genes = n_replaced,
    fitType = fit_type,
    wald = c(na_summary(res, dds, cooks_cutoff), list(filter = filter_info(res))),
    lrt = c(na_summary(res_lrt, dds_lrt, cooks_cutoff), list(filter = filter_info(res_lrt)),
            list(fitType = attr(dispersionFunction(dds_lrt), "fitType"))),
    lfc_shrink_normal = shrink_info,
    vst = vst_info,
    log = as.list(log_env$lines)
  )
  if (length(extra_summary)) summary$extra_results <- extra_summary
  write_json(summary, file.path(out, "summary.json"))
  writeLines(if (length(log_env$lines)) log_env$lines else "(no messages or warnings)",
             file.path(out, "messages.txt"))
  list(name = paste0(basename(dataset_dir), "/", name),
       deseq = unname(t_deseq["elapsed"]), lrt = unname(t_lrt["elapsed"]),
       total = unname(t_all["elapsed"]))
}

## --------------------------------------------------------------- datasets --

timings <- list()

## pasilla (Brooks et al. 2011), the DESeq2 vignette table.
t_ds <- proc.time()
pas_dir <- file.path(golden, "pasilla")
pas <- read_dataset(pas_dir)
pas$coldata$condition <- factor(pas$coldata$condition, levels = c("untreated", "treated"))
pas$coldata$type <- factor(pas$coldata$type, levels = c("paired-end", "single-read"))
timings[[length(timings) + 1]] <- run_analysis(
  pas, pas_dir, "type_condition", design = ~ type + condition, reduced = ~ type,
  contrast = c("condition", "treated", "untreated"), do_vst = TRUE, write_cooks = TRUE)
## The same design with the local dispersion trend (fitType = "local": locfit of log
## dispersion on log mean, weights = mean; also what DESeq2 falls back to when the
## parametric fit fails), and tests against a log2 fold-change threshold of 1 with each
## altHypothesis of results() (results_wald_thr1_<altHypothesis>.tsv.gz).
thr_results <- function(contrast, threshold, tag) {
  out <- list()
  for (alt in c("greaterAbs", "lessAbs", "greater", "less")) {
    out[[paste0(tag, "_", alt)]] <- list(contrast = contrast, lfcThreshold = threshold,
                                        altHypothesis = alt)
  }
  out
}
timings[[length(timings) + 1]] <- run_analysis(
  pas, pas_dir, "type_condition_local", design = ~ type + condition, reduced = ~ type,
  contrast = c("condition", "treated", "untreated"), deseq_args = list(fitType = "local"),
  extra_results = thr_results(c("condition", "treated", "untreated"), 1, "thr1"))
timings[[length(timings) + 1]] <- run_analysis(
  pas, pas_dir, "interaction", design = ~ type + condition + type:condition,
  reduced = ~ type + condition, res_name = "typesingle.read.conditiontreated",
  shrink_normal = FALSE)
## A numeric covariate, not centred (the exon counts of each library in millions, 10.3 to
## 20.8, from the pasilla sample annotation), beside the condition. (In raw units, ~1e7,
## R DESeq2 1.38.3 stops with "system is computationally singular" in its optim fallback.)
timings[[length(timings) + 1]] <- run_analysis(
  pas, pas_dir, "exon_mreads_condition", design = ~ exon_mreads + condition,
  reduced = ~ condition, contrast = c("condition", "treated", "untreated"),
  extra_results = list(exon_mreads = list(name = "exon_mreads")))
## A 3-level factor (type and condition combined, without the one single-read treated
## library): 6 samples, 3 coefficients, residual df 3, so the Monte-Carlo prior variance;
## three contrasts from one fit, including two between non-reference levels.
pas3 <- pas
keep3 <- setdiff(colnames(pas$counts), "treated1")
pas3$counts <- pas$counts[, keep3]
pas3$coldata <- pas$coldata[keep3, ]
pas3$coldata$group <- factor(paste(sub("-", "", pas3$coldata$type), pas3$coldata$condition, sep = "_"),
                             levels = c("pairedend_untreated", "pairedend_treated", "singleread_untreated"))
timings[[length(timings) + 1]] <- run_analysis(
  pas3, pas_dir, "group3", design = ~ group, reduced = ~ 1,
  contrast = c("group", "pairedend_treated", "pairedend_untreated"),
  extra_results = list(
    singleread_untreated_vs_pairedend_untreated = list(contrast = c("group", "singleread_untreated", "pairedend_untreated")),
    singleread_untreated_vs_pairedend_treated = list(contrast = c("group", "singleread_untreated", "pairedend_treated")),
    pairedend_treated_vs_singleread_untreated = list(contrast = c("group", "pairedend_treated", "singleread_untreated")),
    ## a threshold test of a contrast in which many genes have no count in either group
    ## (R sets their LFC to 0 before the threshold test, so these get p-values too)
    thr05_singleread_untreated_vs_pairedend_untreated_lessAbs = list(
      contrast = c("group", "singleread_untreated", "pairedend_untreated"), lfcThreshold = 0.5,
      altHypothesis = "lessAbs"),
    thr05_singleread_untreated_vs_pairedend_untreated_greater = list(
      contrast = c("group", "singleread_untreated", "pairedend_untreated"), lfcThreshold = 0.5,
      altHypothesis = "greater")))
pas_total <- unname((proc.time() - t_ds)["elapsed"])

## Papillary thyroid carcinoma vs paired normal thyroid, small-RNA-seq (GSE63511).
t_ds <- proc.time()
thy_dir <- file.path(golden, "thyroid_mirna")
thy <- read_dataset(thy_dir)
thy$coldata$condition <- factor(thy$coldata$condition, levels = c("NTH", "PTC"))
thy$coldata$pair <- factor(thy$coldata$pair, levels = paste0("patient", 1:8))
timings[[length(timings) + 1]] <- run_analysis(
  thy, thy_dir, "pair_condition", design = ~ pair + condition, reduced = ~ pair,
  contrast = c("condition", "PTC", "NTH"), do_vst = TRUE, write_cooks = TRUE)
## The same with fitType = "local", and threshold tests at |LFC| 0.5.
timings[[length(timings) + 1]] <- run_analysis(
  thy, thy_dir, "pair_condition_local", design = ~ pair + condition, reduced = ~ pair,
  contrast = c("condition", "PTC", "NTH"), deseq_args = list(fitType = "local"),
  extra_results = thr_results(c("condition", "PTC", "NTH"), 0.5, "thr05"))
## Unpaired design on the same data: 8 replicates per group, so Cook's
## filtering applies and outlier replacement (minReplicatesForReplace = 7) runs.
timings[[length(timings) + 1]] <- run_analysis(
  thy, thy_dir, "condition", design = ~ condition, reduced = ~ 1,
  contrast = c("condition", "PTC", "NTH"), write_cooks = TRUE)
## Same, without outlier replacement, so that Cook's filtering sets p-values to NA.
timings[[length(timings) + 1]] <- run_analysis(
  thy, thy_dir, "condition_noreplace", design = ~ condition, reduced = ~ 1,
  contrast = c("condition", "PTC", "NTH"), shrink_normal = FALSE,
  deseq_args = list(minReplicatesForReplace = Inf))
## Patients 1-6, unpaired (~ condition, 6 + 6): cells of 6, below minReplicatesForReplace = 7,
## so nothing is replaced and Cook's filtering applies with R's default cutoff qf(0.99, 2, 10);
## plus results(cooksCutoff = 2) (results_wald_cooks2.tsv.gz), a lower cutoff that filters more.
thy6 <- thy
keep6 <- c(paste0("PTC_", 1:6), paste0("NTH_", 1:6))
thy6$counts <- thy$counts[, keep6]
thy6$coldata <- thy$coldata[keep6, ]
thy6$coldata$pair <- droplevels(thy6$coldata$pair)
timings[[length(timings) + 1]] <- run_analysis(
  thy6, thy_dir, "condition_6v6", design = ~ condition, reduced = ~ 1,
  contrast = c("condition", "PTC", "NTH"), shrink_normal = FALSE,
  extra_results = list(cooks2 = list(contrast = c("condition", "PTC", "NTH"), cooksCutoff = 2)))
## Fewer pairs: residual df 3 (4 pairs, 8 samples, 5 coefficients) and 2 (3 pairs), where
## DESeq2 estimates the dispersion prior variance by simulation.
for (np_ in c(4L, 3L)) {
  thy_k <- thy
  keep_k <- c(paste0("PTC_", seq_len(np_)), paste0("NTH_", seq_len(np_)))
  thy_k$counts <- thy$counts[, keep_k]
  thy_k$coldata <- thy$coldata[keep_k, ]
  thy_k$coldata$pair <- droplevels(thy_k$coldata$pair)
  timings[[length(timings) + 1]] <- run_analysis(
    thy_k, thy_dir, paste0("pair_condition_", np_, "pairs"), design = ~ pair + condition,
    reduced = ~ pair, contrast = c("condition", "PTC", "NTH"))
}
thy_total <- unname((proc.time() - t_ds)["elapsed"])

## ---------------------------------------------------------- versions, time --

si <- sessionInfo()
writeLines(c(
  paste0("R: ", R.version.string),
  paste0("DESeq2: ", as.character(packageVersion("DESeq2"))),
  paste0("SummarizedExperiment: ", as.character(packageVersion("SummarizedExperiment"))),
  paste0("BiocGenerics: ", as.character(packageVersion("BiocGenerics"))),
  paste0("apeglm installed: ", requireNamespace("apeglm", quietly = TRUE)),
  paste0("ashr installed: ", requireNamespace("ashr", quietly = TRUE)),
  paste0("BLAS: ", si$BLAS),
  paste0("LAPACK: ", si$LAPACK),
  "",
  capture.output(print(si))
), file.path(golden, "versions.txt"))

cpu <- tryCatch({
  l <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)
  if (length(l)) trimws(sub("^model name\\s*:", "", l[1])) else "unknown"
}, error = function(e) "unknown")
script_total <- unname((proc.time() - t_script)["elapsed"])
fmt_s <- function(x) sprintf("%.2f", x)
lines <- c(
  "# Wall-clock seconds of R DESeq2, measured by make_golden.R with system.time()/proc.time()",
  paste0("# machine: ", parallel::detectCores(), " cores (nproc), CPU: ", cpu),
  paste0("# ", R.version.string, ", DESeq2 ", as.character(packageVersion("DESeq2")),
         ", BLAS: ", basename(si$BLAS)),
  paste0("# generated: ", format(Sys.time(), "%Y-%m-%d")),
  "analysis\tDESeq_wald_s\tDESeq_lrt_s\tanalysis_total_s")
for (t in timings) lines <- c(lines, paste(t$name, fmt_s(t$deseq), fmt_s(t$lrt), fmt_s(t$total), sep = "\t"))
lines <- c(lines,
           paste0("dataset_total\tpasilla\t", fmt_s(pas_total)),
           paste0("dataset_total\tthyroid_mirna\t", fmt_s(thy_total)),
           paste0("script_total (incl. package loading)\t", fmt_s(script_total)))
writeLines(lines, file.path(golden, "timings.txt"))
cat(lines, sep = "\n")
