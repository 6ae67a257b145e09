from sweeper.cli import entry_point

entry_point()
