import pytest


@pytest.fixture(scope="session")
def spark():
    """One local[2] session for every Spark test (JVM start-up is the slow part)."""
    from pipeline.config import SparkConfig
    from pipeline.spark import build_session

    session = build_session(SparkConfig(master="local[2]", shuffle_partitions=2, driver_memory="2g"),
                            app_name="curate-tests")
    yield session
    session.stop()
