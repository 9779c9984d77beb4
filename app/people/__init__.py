"""People: person records, identity matching and subject access."""
