// Package policies holds the retention policies shipped with churn. The
// default policy is built into the binary, so `churn actions plan` and
// `churn serve` work without a policy file; operators copy default.yaml,
// edit it and pass it with --policy.
package policies

import _ "embed"

// Default is default.yaml: treat customers by value.
//
//go:embed default.yaml
var Default []byte

// DefaultName is how the built-in default is named in messages.
const DefaultName = "built-in default policy (policies/default.yaml)"
