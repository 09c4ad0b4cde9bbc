package clickhouse

import (
	"context"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telcoretain/churn"
)

// churnedSQL lists the customers who churned in [@from, @to) with their
// churn date (gone_at; named apart from churned_at, which ClickHouse would
// otherwise substitute into the WHERE), by the definition of their billing (features/sql/snapshot.sql):
// a postpaid customer's first churn event in the range; a prepaid customer
// whose last activity (usage, top-up or signup) before @to, at most @n days before
// @from, is followed by @n days without any (its churn date). The prepaid
// part needs data up to @to + @n: callers wait for it (jobs.settleDays).
const churnedSQL = `
SELECT customer_id, min(churned_at) AS gone_at
FROM churn_events
WHERE churned_at >= toDate(@from) AND churned_at < toDate(@to)
  AND customer_id NOT IN (SELECT customer_id FROM customers WHERE billing = 'prepaid')
GROUP BY customer_id
UNION ALL
SELECT customer_id, last AS gone_at
FROM
(
    SELECT
        customer_id,
        maxIf(d, d < toDate(@to)) AS last,
        countIf(d >= toDate(@to)) AS after,
        minIf(d, d >= toDate(@to)) AS next
    FROM
    (
        SELECT customer_id, day AS d
        FROM usage_daily
        WHERE day >= toDate(@from) - @n AND day < toDate(@to) + @n
          AND (voice_minutes > 0 OR data_mb > 0 OR sms > 0 OR calls > 0)
          AND customer_id IN (SELECT customer_id FROM customers WHERE billing = 'prepaid')
        UNION ALL
        SELECT customer_id, topped_up_at AS d
        FROM topups
        WHERE topped_up_at >= toDate(@from) - @n AND topped_up_at < toDate(@to) + @n
        UNION ALL
        -- the signup counts as activity, as in the snapshot
        SELECT customer_id, signup_date AS d
        FROM customers
        WHERE billing = 'prepaid' AND signup_date >= toDate(@from) - @n AND signup_date < toDate(@to) + @n
    )
    GROUP BY customer_id
)
WHERE last >= toDate(@from) - @n AND last < toDate(@to)
  AND NOT (after > 0 AND toRelativeDayNum(next) - toRelativeDayNum(last) <= @n)`

// churnedArgs binds churnedSQL's parameters.
func (c *Client) churnedArgs(from, to time.Time) []any {
	n := c.cfg.PrepaidInactivity
	if n == 0 {
		n = churn.DefaultPrepaidInactivity
	}
	return []any{
		ch.Named("from", from.UTC().Format(time.DateOnly)),
		ch.Named("to", to.UTC().Format(time.DateOnly)),
		ch.Named("n", n),
	}
}

// HasPrepaid reports whether any customer is prepaid (churns by inactivity,
// so its labels need more days of data after the horizon).
func (c *Client) HasPrepaid(ctx context.Context) (bool, error) {
	const op = "read billing kinds"
	var n uint64
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM (SELECT customer_id FROM customers WHERE billing = ? LIMIT 1)",
		churn.BillingPrepaid).Scan(&n); err != nil {
		return false, wrap(op, c.cfg, err)
	}
	return n > 0, nil
}
