"""RGPD: per-contract privacy notices, the retention schedule and its purge, and the rights of
access and erasure of staff accounts and resident contacts."""
