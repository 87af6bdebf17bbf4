"""Pre-trained policies that ship with the package (see `bundled`)."""
