"""mash-api: the backend of a local authority's Multi-Agency Safeguarding Hub."""
