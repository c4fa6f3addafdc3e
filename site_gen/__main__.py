import sys

from site_gen.cli import main

sys.exit(main())
