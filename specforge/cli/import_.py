"""``specforge import``: placeholder while the decompiler is written."""
