"""EmbedLens tests, one folder per engine package (core, output, models, corpus, vectors, map,
tables, length, probes, compare, report, cli) plus pages/ (each Streamlit page under AppTest) and
browser/ (the real server driven through Debian Chromium by Playwright).

Test folders are packages, so modules import shared helpers as ``tests.<module>`` (shared.py,
probe_corpus.py, pages/apptest.py, tables/doubles.py, ...) and basenames may repeat across folders.

The inner loop: ``python -m pytest -m "not slow and not browser"``; plain ``pytest`` runs all.
"""
