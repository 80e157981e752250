"""`tagger view`: a local, read-only web app over the run history (see docs/view.md)."""
