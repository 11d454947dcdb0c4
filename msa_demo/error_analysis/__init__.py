"""Error analysis: a model over a cached corpus split, the items sorted by error, the clips it gets
wrong opened in the Live panels. The feature in one place; its UI is msa_demo/ui/error_table.py (the
tab) and msa_demo/ui/errors_tab.py (mounting it, opening a sample).

evaluation.py   predictions and MMSA metrics over a cache (also training.evaluate's)
split.py        one model on one split -> metrics + the error table; a sample's features and media
plots.py        predicted-vs-label scatter, polarity confusion matrix
media.py        a corpus item's media, copied where the page may serve it
build.py        one split's feature cache built on demand (a fresh install has none)
"""
