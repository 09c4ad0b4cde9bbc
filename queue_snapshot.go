package churn

import "time"

// QueueSnapshot describes one stored snapshot of the action queue: the fold
// of every action event up to and including Cut, in event id order, written
// as Chunks opaque chunks holding Actions actions. A snapshot is complete
// once this header is stored, which happens after all its chunks are.
type QueueSnapshot struct {
	ID        uint64    // unique, increasing with the time of writing
	Cut       string    // id of the last event folded in
	Token     uint64    // highest fencing token among those events
	Latest    time.Time // newest event time among them
	Actions   int       // actions the chunks hold
	Chunks    int       // chunks written before the header
	WrittenAt time.Time
	Writer    string // owner id of the server that wrote it
}
