"""The version of fastlinear, in one place (read by the build and at import)."""
__version__ = "0.2.0.dev0"
