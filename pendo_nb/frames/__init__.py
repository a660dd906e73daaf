"""The frames layer: JSON and CSV rows to typed DataFrames, stitching, frame files.

It knows nothing of HTTP: it turns bytes and rows into DataFrames, whoever fetched them.
"""
