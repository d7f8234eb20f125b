"""Hub's Redmine connector (REST API): ``connector.RedmineConnector``."""
