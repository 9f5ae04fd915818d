"""The built-in plugins. Each module is an ordinary plugin: read them as examples."""
