package features

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/telcoretain/churn"
)

// LabelColumn is the name of the label column in exported snapshots.
const LabelColumn = "label"

// WriteCSV writes a snapshot for notebooks and other tools: a customer_id
// column, one column per feature (categorical features as their string
// values, missing values empty) and a label column (1 churned, 0 retained,
// empty while the horizon has not passed).
func WriteCSV(w io.Writer, s *Snapshot) error {
	m := s.Matrix
	if err := m.Validate(); err != nil {
		return fmt.Errorf("write snapshot CSV: %w", err)
	}
	if len(s.Features) != len(m.Cols) {
		return fmt.Errorf("write snapshot CSV: %d feature definitions for %d columns", len(s.Features), len(m.Cols))
	}
	cw := csv.NewWriter(w)
	header := make([]string, 0, len(m.Cols)+2)
	header = append(header, "customer_id")
	header = append(header, m.Features...)
	header = append(header, LabelColumn)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write snapshot CSV: %w", err)
	}
	rec := make([]string, len(header))
	for i, id := range m.IDs {
		rec[0] = id
		for j, f := range s.Features {
			rec[j+1] = FormatValue(f, m.Cols[j][i])
		}
		rec[len(rec)-1] = ""
		if m.Labels != nil && !isNaN(m.Labels[i]) {
			rec[len(rec)-1] = strconv.Itoa(int(m.Labels[i]))
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write snapshot CSV: row %d: %w", i+1, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write snapshot CSV: %w", err)
	}
	return nil
}

// FormatValue renders a feature value for people and files: the category
// name for categorical features, the shortest decimal that reads back as the
// same float32 otherwise, and "" when missing.
func FormatValue(f churn.Feature, v float32) string {
	if isNaN(v) {
		return ""
	}
	if f.Categories != nil {
		i := int(v)
		if float32(i) == v && i >= 0 && i < len(f.Categories) {
			return f.Categories[i]
		}
		return ""
	}
	return strconv.FormatFloat(float64(v), 'f', -1, 32)
}
