"""Scoring: schemes as data, pure scoring of units' yearly assessment, working days, exports (bytes out).

Pure: no database, no clock (`now` is an argument), no environment.
"""
