"""Data: generated and loaded data sets, feature expansion, and the bounded reader for user
files.
"""
