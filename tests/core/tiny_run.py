"""Run options that make a command-line run take a fraction of a second on a tiny image."""
TINY = ["--steps", "3", "--samples", "2", "--pixels-per-step", "64", "--device", "cpu"]
