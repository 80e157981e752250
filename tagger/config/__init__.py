"""User choices -> objects: taxonomy, prompts, response schemas, and a run's model setup."""
