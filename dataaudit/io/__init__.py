"""Input and output: loading tables, writing outputs atomically, saving and loading artifacts."""
