"""Text analysis: analyzers that turn text into index terms, and language identification."""
