"""Pure domain: no I/O, and no imports from the rest of the package."""
