"""Feed ingestion: fetch (the network edge) → parse (bytes → items, pure) → dates (raw strings → UTC)."""
