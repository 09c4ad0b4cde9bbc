package dataset

import "io"

// Decode wraps r so that a gzip'd file reads as plain text and a UTF-8 byte
// order mark is dropped; other tools that read CSV (churn train --csv,
// churn predict) share it with churn import.
func Decode(r io.Reader) (io.Reader, error) { return decode(r) }
