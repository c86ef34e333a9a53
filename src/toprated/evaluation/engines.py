"""Where an evaluation runs. The expressions are the same; an engine only picks the backend.

- `duckdb`: the embedded store (the default);
- `postgres`: inside the PostgreSQL store;
- `spark`: PySpark over the Parquet files of `toprated export --parquet DIR` (local mode here,
  a cluster URL with `--spark-master` in production). Needs `pip install toprated[spark]` and Java.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import ibis

from toprated.errors import UserError
from toprated.metrics.sources import TABLES

ENGINES = ("duckdb", "postgres", "spark")


def spark_backend(parquet_dir: Path, master: str = "local[2]") -> ibis.BaseBackend:
    """An Ibis PySpark backend with every typed table of `parquet_dir` registered under its name."""
    missing = [t for t in TABLES if not (parquet_dir / f"{t}.parquet").exists()]
    if missing:
        raise UserError(f"{parquet_dir} lacks {', '.join(missing)}.parquet: write it with `toprated export --parquet`")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise UserError("the spark engine needs Java (a JRE 17 or newer on the PATH, or JAVA_HOME)")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError("the spark engine needs PySpark: pip install 'toprated[spark]'") from None
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # PySpark 4 warns at every conversion that it does not fully support pandas 3; toprated converts
    # through Arrow, and the warning, printed again and again, would bury what the command says
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    scratch = tempfile.mkdtemp(prefix="toprated-spark-")
    session = (
        SparkSession.builder.master(master)
        .appName("toprated")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # The criteria are long chains of derived columns; inferring constraints over them grew
        # without bound and ran the driver out of heap (a week read from the previous masks)
        .config("spark.sql.constraintPropagation.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("TOPRATED_SPARK_MEMORY", "1g"))
        .config("spark.local.dir", scratch)
        .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={scratch} -Duser.timezone=UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    con = ibis.pyspark.connect(session)
    for name in TABLES:
        con.read_parquet(str(parquet_dir / f"{name}.parquet"), table_name=name)
    return con


def parquet_duckdb(parquet_dir: Path) -> ibis.BaseBackend:
    """An in-process DuckDB reading the same Parquet files (views, nothing copied).

    The Spark engine decides feedback-removal requests here: the decisions are a sequence of small
    evaluations of a few entities each, where Spark's fixed cost per query (seconds) would dominate,
    and the expressions are the same.
    """
    con = ibis.duckdb.connect()
    for name in TABLES:
        path = str(parquet_dir / f"{name}.parquet").replace("'", "''")
        con.raw_sql(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{path}')").fetchall()
    return con
