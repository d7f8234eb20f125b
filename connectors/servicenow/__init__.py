"""ServiceNow (Table API)."""
