"""Data embassy: chunked, sealed, erasure-coded snapshots across sites."""
