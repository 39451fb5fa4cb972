"""Bytes: blobs, codecs, the index and the local store. Knows nothing of hashing or IPython."""
