package churn

import "slices"

// EnumColumn is an enumerated column of the input contract and the
// categories its values stand for in features and policies.
type EnumColumn struct {
	Table, Column string
	Categories    []string
}

// Key names the column as vocabulary files and errors do: "table.column".
func (c EnumColumn) Key() string { return c.Table + "." + c.Column }

// EnumColumns lists the contract columns whose values an operator names in
// its vocabulary. Features and policies only ever see the categories, so an
// operator's own words ("sme", "wallet", "roaming") need no code change.
func EnumColumns() []EnumColumn {
	return []EnumColumn{
		{Table: "customers", Column: "segment", Categories: Segments},
		{Table: "customers", Column: "payment_method", Categories: PaymentMethods},
		{Table: "plan_changes", Column: "contract", Categories: Contracts},
		{Table: "support_tickets", Column: "category", Categories: TicketKinds},
		{Table: "churn_events", Column: "reason", Categories: ChurnReasons},
	}
}

// Term is one value an operator's rows hold and the category it means.
type Term struct{ Value, Category string }

// Vocabulary maps the values of the enumerated contract columns to their
// categories. The zero value is the default vocabulary: every category is
// its own only value.
type Vocabulary struct {
	// Source is the file the vocabulary came from; errors about unknown
	// values tell people to add them there. Empty for the default.
	Source string
	// Terms holds the terms of each column by EnumColumn.Key; a column
	// without an entry has the default terms.
	Terms map[string][]Term
}

// Of returns the terms of a column ("table.column"): the operator's when it
// named them, else the identity of the column's categories; nil for a
// column that is not enumerated.
func (v Vocabulary) Of(key string) []Term {
	if ts, ok := v.Terms[key]; ok {
		return ts
	}
	for _, c := range EnumColumns() {
		if c.Key() == key {
			ts := make([]Term, len(c.Categories))
			for i, cat := range c.Categories {
				ts[i] = Term{Value: cat, Category: cat}
			}
			return ts
		}
	}
	return nil
}

// Values returns the values a column accepts, in vocabulary order; nil when
// the column is not enumerated.
func (v Vocabulary) Values(key string) []string {
	ts := v.Of(key)
	if ts == nil {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Value
	}
	return out
}

// Mapping returns a column's values and their categories as two parallel
// lists, the form SQL's transform(x, values, categories, default) takes.
func (v Vocabulary) Mapping(key string) (values, categories []string) {
	for _, t := range v.Of(key) {
		values = append(values, t.Value)
		categories = append(categories, t.Category)
	}
	return values, categories
}

// Category returns the category of a value of a column and whether the
// vocabulary knows the value.
func (v Vocabulary) Category(key, value string) (string, bool) {
	i := slices.IndexFunc(v.Of(key), func(t Term) bool { return t.Value == value })
	if i < 0 {
		return "", false
	}
	return v.Of(key)[i].Category, true
}
