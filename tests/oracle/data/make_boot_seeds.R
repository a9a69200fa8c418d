# R `did`'s multiplier-bootstrap standard errors on the two-unit cohort of mpdta_two_unit_cohort.csv, one run of
# 1,000 draws for each of the seeds 1-50: R's own run-to-run spread, against which impactlab's is compared.
# Run here as `Rscript make_boot_seeds.R . .`
suppressPackageStartupMessages({library(did)})
args <- commandArgs(trailingOnly = TRUE); src <- args[1]; out <- args[2]
two <- read.csv(file.path(src, "mpdta_two_unit_cohort.csv"))
rows <- list()
for (s in 1:50) {
  set.seed(s)
  a <- att_gt(yname = "lemp", tname = "year", idname = "countyreal", gname = "first.treat", data = two,
              control_group = "nevertreated", est_method = "dr", bstrap = TRUE, biters = 1000, cband = FALSE,
              base_period = "varying")
  rows[[s]] <- data.frame(seed = s, group = a$group, t = a$t, se = a$se)
}
write.csv(do.call(rbind, rows), file.path(out, "ref_boot_seeds.csv"), row.names = FALSE)
