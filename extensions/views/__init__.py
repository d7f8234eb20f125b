"""Screens of Settings → Extensions: extensions, key-value stores, and the extension parts of the
collection and mapping screens."""
