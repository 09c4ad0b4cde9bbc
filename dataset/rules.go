package dataset

import "fmt"

// orderRule says that, within a row, the date in Later is not before the date
// in Earlier (a NULL Later passes: the ticket is still open).
type orderRule struct{ Later, Earlier string }

// rowRules are the checks across columns of one row that types and bounds
// cannot express. They belong with the contract; they live here until
// dataset.Table carries them.
func rowRules(table string) []orderRule {
	switch table {
	case "invoices":
		return []orderRule{{Later: "due_date", Earlier: "issued_at"}}
	case "support_tickets":
		return []orderRule{{Later: "resolved_at", Earlier: "opened_at"}}
	case "contract_terms":
		return []orderRule{{Later: "ends_at", Earlier: "started_at"}}
	}
	return nil
}

// boundRule is an orderRule resolved to the columns of one Columns.
type boundRule struct{ later, earlier *vec }

func (c *Columns) bindRules() []boundRule {
	var out []boundRule
	for _, r := range rowRules(c.table.Name) {
		var b boundRule
		for _, v := range c.vecs {
			switch v.col.Name {
			case r.Later:
				b.later = v
			case r.Earlier:
				b.earlier = v
			}
		}
		if b.later != nil && b.earlier != nil {
			out = append(out, b)
		}
	}
	return out
}

// check returns what is wrong with row i, or "".
func (b boundRule) check(i int) string {
	if b.later.isNull(i) || b.earlier.isNull(i) {
		return ""
	}
	if b.later.instant(i) < b.earlier.instant(i) {
		return fmt.Sprintf("%s is before %s %s", b.later.format(i), b.earlier.col.Name, b.earlier.format(i))
	}
	return ""
}
