"""The lab tool's package: see scripts/lab."""
