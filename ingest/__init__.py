"""Getting opinion in: fetch → parse → dates → store (dedup, classification, triage), imports, runner."""
