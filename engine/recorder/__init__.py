"""Market data capture into the Parquet catalog: schemas, the file writer and the recorder."""
