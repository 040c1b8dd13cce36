"""Real servers that mailbag's integration tests talk to."""
