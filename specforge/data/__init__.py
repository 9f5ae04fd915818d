"""Reading data: the dataset and preprocessor contracts and the file formats the built-ins read.

* :mod:`.dataset`: :class:`~.dataset.Dataset` and :class:`~.dataset.DataError`
  (public as ``specforge.plugin.Dataset`` / ``DataError``) and the checks every
  loader applies;
* :mod:`.preprocessor`: the :class:`~.preprocessor.Preprocessor` base class
  (public as ``specforge.plugin.Preprocessor``);
* :mod:`.csv`, :mod:`.npz`, :mod:`.idx`: one file format each;
* :mod:`.selectors`: the column selectors of ``feeds`` and ``targets``;
* :mod:`.fetch`: downloads on first use, checked by SHA-256 and cached.

The loaders of the built-in datasets are in ``specforge/default_plugins/datasets/``.
"""
