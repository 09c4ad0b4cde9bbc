package clickhouse

import (
	"context"
	"strconv"
	"time"

	"github.com/telcoretain/churn"
)

// PrepaidAmong returns which of the given customers are prepaid: their
// churn is their silence (churnedSQL), not a churn event, so the synthetic
// demo (`churn actions simulate`) keeps them by adding activity rather than
// by deleting an event.
func (c *Client) PrepaidAmong(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := inParts(ids, func(part []string) error {
		return c.each(ctx, "read billing kinds", "SELECT customer_id FROM customers WHERE billing = ? AND has(?, customer_id)",
			func(s scanner) error {
				var id string
				if err := s.Scan(&id); err != nil {
					return err
				}
				out[id] = true
				return nil
			}, churn.BillingPrepaid, part)
	})
	return out, err
}

// idsPerQuery bounds the text of the ids a query inlines: the driver writes
// an array parameter into the query's text, and ClickHouse refuses a query
// longer than max_query_size (256 KiB by default); a retention cycle at a
// million subscribers names some 100,000 customers.
const idsPerQuery = 128 << 10

// inParts calls fn with consecutive parts of ids whose text stays under
// idsPerQuery bytes, and none for no ids.
func inParts(ids []string, fn func(part []string) error) error {
	for start := 0; start < len(ids); {
		end, size := start, 0
		for end < len(ids) && (end == start || size+len(ids[end])+4 <= idsPerQuery) {
			size += len(ids[end]) + 4 // quotes, comma, space
			end++
		}
		if err := fn(ids[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// AddSyntheticTopups writes a top-up of amount every `every` days from day
// from (inclusive) to day end (exclusive) for each customer: a prepaid
// customer whom a retention action kept stays active until the data's end
// instead of going silent. Only the synthetic demo calls it; an operator's
// top-ups are facts. Ids are made from the customer and the day, so that
// writing the same top-ups twice is visible as duplicates, not as more
// activity. On a cluster it returns once every replica holds the top-ups.
func (c *Client) AddSyntheticTopups(ctx context.Context, ids []string, from, end time.Time, every int, amount float64) error {
	if len(ids) == 0 || every < 1 || !from.Before(end) {
		return nil
	}
	var topupIDs, customers []string
	var days []time.Time
	var amounts []float64
	for _, id := range ids {
		for d := from; d.Before(end); d = d.AddDate(0, 0, every) {
			topupIDs = append(topupIDs, "synthetic-"+id+"-"+strconv.FormatInt(d.Unix()/86400, 10))
			customers, days, amounts = append(customers, id), append(days, d), append(amounts, amount)
		}
	}
	return c.insertAgreed(ctx, "topups", "top-ups", []string{"topup_id", "customer_id", "topped_up_at", "amount"},
		[]any{topupIDs, customers, days, amounts})
}

// insertAgreed writes the synthetic rows of table (what names them in
// messages) and, on a cluster, returns once the replicas of each shard hold
// the same rows (awaitAgreed), so that what reads them next reads them from
// either replica.
func (c *Client) insertAgreed(ctx context.Context, table, what string, columns []string, data []any) error {
	if err := c.InsertColumns(ctx, table, columns, data); err != nil {
		return err
	}
	return c.awaitAgreed(ctx, "replicate the synthetic "+what, table, what)
}
