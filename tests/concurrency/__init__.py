"""Real parallel requests against PostgreSQL: what partner systems that retry and race will do."""
