"""The book build, one module per stage (``scripts/build_book.py`` is the command line).

- :mod:`bookbuild.common`: the repository root, the build's error type, chapters and where
  each edition's outputs go;
- :mod:`bookbuild.toc`: read ``_config.yml`` and ``_toc.yml``, pick the chapters;
- :mod:`bookbuild.execute`: run one chapter with papermill and post-process it for the site;
- :mod:`bookbuild.cache`: decide whether a chapter's cached run is current, store and reuse runs;
- :mod:`bookbuild.status`: the machine, ``timings.json`` and the status page;
- :mod:`bookbuild.site`: stage the book and run ``jupyter-book build``;
- :mod:`bookbuild.pipeline`: the whole build, stage after stage.

The package is not named ``book`` because the repository's ``book/`` folder (the landing
page, the bibliography) would shadow it whenever the repository root is on ``sys.path``.
"""
