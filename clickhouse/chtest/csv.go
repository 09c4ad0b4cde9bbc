package chtest

import (
	"fmt"
	"strings"
)

// CustomersCSV is a valid customers file of n customers, C0000.. in order,
// for import tests that need more rows than dataset/testdata holds (enough
// to land on every shard of the test cluster).
func CustomersCSV(n int) string {
	var b strings.Builder
	b.WriteString("customer_id,signup_date,region,segment,payment_method\n")
	for i := range n {
		fmt.Fprintf(&b, "C%04d,2023-01-%02d,north,consumer,direct_debit\n", i, 1+i%28)
	}
	return b.String()
}

// UsageCSV is a valid usage_daily file for the customers of CustomersCSV(n):
// days rows each, on every 11th day of year from its day of the year first+1
// (first < 11 gives files with no key in common), so that a few days span
// more than one monthly partition.
func UsageCSV(n, days, year, first int) string {
	var b strings.Builder
	b.WriteString("customer_id,day,voice_minutes,data_mb,sms,calls,intl_minutes,roaming_minutes,dropped_calls\n")
	for i := range n {
		for d := range days {
			day := first + 11*d
			month, dom := 1+day/28, 1+day%28
			fmt.Fprintf(&b, "C%04d,%d-%02d-%02d,%d,%d.5,%d,%d,0,0,%d\n", i, year, month, dom, 10+i%7, 100+d, i%5, 1+d%4, d%2)
		}
	}
	return b.String()
}
