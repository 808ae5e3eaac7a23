"""Scale-out message storage on Apache Cassandra (seed §6 schema, numbered CQL files)."""
