"""One module per CLI command; each defines ``register(app)``. Only typer is imported at module level."""
