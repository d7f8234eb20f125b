"""Jira Cloud (REST v3) and Jira Data Center / Server (REST v2)."""
