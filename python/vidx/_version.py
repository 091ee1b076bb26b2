"""The vidx version: defined here only. pyproject.toml and CMakeLists.txt read it from this file."""
__version__ = "0.1.0"
