"""Offline work on corpora: feature extraction into caches (extract.py), training and evaluation."""
