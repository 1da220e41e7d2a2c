"""`python -m trainlab` is the same program as `trainlab`."""

from trainlab.cli.main import main

raise SystemExit(main())
