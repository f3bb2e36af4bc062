"""python -m jtorch run SCRIPT [ARGS...] | compare SCRIPT [ARGS...]: see jtorch/_cli.py."""
import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
