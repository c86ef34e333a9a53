"""toprated."""
