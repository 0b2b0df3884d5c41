"""What people read: one document model rendered as report.md and report.html (`document`), its
plots, the eval-run, compare and sweep reports built on it, and the plain-text tables the CLI
prints (`tables`)."""
