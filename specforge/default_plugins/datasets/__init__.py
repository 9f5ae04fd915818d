"""Built-in datasets for ``data.dataset.type``, registered like any plugin's.

One module per source of data, each written as a dataset plugin would be
(parameter model, loader, :class:`~specforge.plugin.DatasetType`) on top of
``specforge.plugin`` and the readers and helpers of :mod:`specforge.data`:

* :mod:`.toy`: ``iris``, ``digits``, ``wine``, ``breast_cancer``, ``diabetes``
  (shipped inside scikit-learn);
* :mod:`.fashion_mnist`: ``fashion_mnist`` (Zalando's four IDX files);
* :mod:`.california`: ``california_housing`` (the original ``cal_housing.tgz``);
* :mod:`.files`: ``csv`` and ``npz`` (a file the spec names, or its URL).

Fashion-MNIST, California housing and a ``url:`` are downloaded on first use,
checked and cached by :mod:`specforge.data.fetch`; the rest are local files.
A parameter whose schema says ``format: path``
(``json_schema_extra={"format": "path"}``) is a file or directory: specforge
resolves it relative to the spec file's directory before calling ``load``,
for third-party datasets as well.

The readers (and numpy, and scikit-learn) are imported inside ``load``, so
``specforge validate`` stays fast.
"""

from __future__ import annotations

from specforge.plugin import hookimpl

from . import california, fashion_mnist, files, toy

#: The plugin API these datasets are written against.
SPECFORGE_API = 2

DATASETS = [*toy.DATASETS, fashion_mnist.DATASET, california.DATASET, *files.DATASETS]


@hookimpl
def register_datasets(register):
    for dataset in DATASETS:
        register(dataset)
