"""`tagger run --batch`: the model stage through a provider batch API (OpenAI format)."""
