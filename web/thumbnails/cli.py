"""Click commands of this service; shared/cli.py adds COMMANDS to `catalog`."""

COMMANDS: list = []
