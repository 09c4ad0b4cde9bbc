package clickhouse

// InsertChunks exposes insertChunks to the external tests.
var InsertChunks = (*Client).insertChunks
