"""`python -m yuqing.cli`: the same as the `yuqing` command (serve starts its workers this way)."""
from yuqing.cli import main

main()
