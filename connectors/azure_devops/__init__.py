"""Azure DevOps work items (Work Item Tracking REST API 7.1)."""
