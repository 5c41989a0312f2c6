"""The ``samoorg`` command line: thin typer commands over node/ and crdt/."""
