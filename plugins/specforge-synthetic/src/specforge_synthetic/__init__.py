"""specforge-synthetic: generated datasets and two preprocessors for specforge."""

__version__ = "0.1.0"
