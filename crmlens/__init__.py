"""CRM Lens: customer-relationship analytics on DuckDB."""
