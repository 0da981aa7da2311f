"""Deadline windows: presets as data and a pure evaluation with `now` passed in."""
