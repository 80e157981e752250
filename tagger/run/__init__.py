"""One run: cache lookup -> gateway -> validate -> OUT, resumable; live or through a batch API."""
