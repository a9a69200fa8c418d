# R `did` on the castle-doctrine panel (Cheng & Hoekstra 2013, as shipped by R's bacondecomp), whose 2005
# (Florida) and 2009 cohorts have one state each. Run here as `Rscript make_castle.R ../../published/data .`
suppressPackageStartupMessages({library(did)})
args <- commandArgs(trailingOnly = TRUE); src <- args[1]; out <- args[2]
castle <- read.csv(file.path(src, "castle.csv"))
castle$sid <- as.integer(factor(castle$state))
first <- tapply(ifelse(castle$post == 1, castle$year, NA), castle$state, min, na.rm = TRUE)
castle$effyear <- ifelse(is.finite(first[castle$state]), first[castle$state], 0)
att_rows <- list(); agg_rows <- list()
sink(file.path(out, "castle_printed.txt"))
for (control in c("nevertreated", "notyettreated")) {
  scn <- paste0("castle_", if (control == "nevertreated") "nev" else "nyt", "_dr")
  a <- att_gt(yname = "l_homicide", tname = "year", idname = "sid", gname = "effyear", data = castle,
              control_group = control, est_method = "dr", bstrap = FALSE, cband = FALSE, base_period = "varying")
  att_rows[[length(att_rows) + 1]] <- data.frame(scenario = scn, group = a$group, t = a$t, att = a$att, se = a$se)
  for (ty in c("simple", "group", "dynamic", "calendar")) {
    g <- aggte(a, type = ty, bstrap = FALSE, na.rm = TRUE)
    cat("\n####", scn, ty, "\n"); print(summary(g))
    e <- if (is.null(g$egt)) NA else g$egt
    agg_rows[[length(agg_rows) + 1]] <- data.frame(scenario = scn, type = ty, egt = e,
      att_egt = if (is.null(g$att.egt)) NA else g$att.egt, se_egt = if (is.null(g$se.egt)) NA else g$se.egt,
      overall_att = g$overall.att, overall_se = g$overall.se)
  }
}
sink()
write.csv(do.call(rbind, att_rows), file.path(out, "ref_castle_attgt.csv"), row.names = FALSE)
write.csv(do.call(rbind, agg_rows), file.path(out, "ref_castle_aggte.csv"), row.names = FALSE)
cat(R.version.string, "\n", "did", as.character(packageVersion("did")), "DRDID", as.character(packageVersion("DRDID")),
    "BMisc", as.character(packageVersion("BMisc")), "\n", file = file.path(out, "versions_castle.txt"))
