package clickhouse

// InsertChunks exposes insertChunks to the external tests.
var InsertChunks = (*Client).insertChunks

// AddsOneColumn exposes the test of a statement whose "column already
// exists" a rerun of migrate forgives.
func AddsOneColumn(stmt string) bool { return addColumnRE.MatchString(stmt) }
