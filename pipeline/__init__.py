"""Shared pipeline layer: the document contract, config, I/O, extraction, the Spark adapter."""
