"""yuqing, the application: command line, store, pages, alerts and the worker around the engines.

Importing the package installs the vocabulary, so every refusal and phrase the engines raise is
rendered in Chinese from one table.
"""
from yuqing import vocabulary as _vocabulary  # noqa: F401 - installs the renderer
