"""Dashboard pages: read widgets → one call into the packages → render."""
