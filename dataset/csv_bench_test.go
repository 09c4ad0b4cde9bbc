package dataset

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"
)

// usageCSV generates a usage_daily file: customers × days rows.
func usageCSV(customers, days int) ([]byte, *fakeStore) {
	store := &fakeStore{rows: map[string][]map[string]string{}}
	var b bytes.Buffer
	b.WriteString(usageHeader)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range customers {
		id := fmt.Sprintf("C%07d", c)
		store.rows["customers"] = append(store.rows["customers"], map[string]string{"customer_id": id})
		for d := range days {
			fmt.Fprintf(&b, "%s,%s,%.2f,%.1f,%d,%d,%.1f,0,%d\n", id, start.AddDate(0, 0, d).Format(dateLayout),
				float64((c*7+d)%300)/3, float64((c*13+d*5)%5000)*1.5, (c+d)%20, (c*3+d)%40, float64(d%4), d%3)
		}
	}
	return b.Bytes(), store
}

func BenchmarkReadCSVUsageDaily(b *testing.B) {
	body, store := usageCSV(2000, 90) // 180,000 rows, about 8 MB
	t := mustTable(b, "usage_daily")
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	var rows int
	for range b.N {
		c, err := ReadCSV(context.Background(), bytes.NewReader(body), t, ReadOptions{Lookup: store})
		if err != nil {
			b.Fatal(err)
		}
		rows += c.Len()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
