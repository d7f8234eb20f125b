"""Hub's Roundup connector (REST interface, classic template): ``connector.RoundupConnector``."""
