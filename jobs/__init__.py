"""Thin job entry points: parse args, load config, build the Spark session, run, write stats."""
