"""Storage sites for embassy shares: local directories, SFTP, S3 (one Protocol, one contract)."""
