"""specforge-layers: node types Dropout, Add and BatchNormalization for specforge."""

__version__ = "0.1.0"
