// Package retention turns churn scores into retention work: whom to contact
// this cycle, how, at what cost, and afterwards whether it worked.
//
//   - policy.go reads the YAML policy (rules by value tier x risk band x top
//     churn reason, contact limits, cooldown, budget, control share) and
//     reports mistakes with their line numbers; watch.go reloads it.
//   - plan.go chooses the actions of a cycle by expected value
//     (P(churn) x lifetime value x save rate - cost) within the budget, and
//     holds out a deterministic control group (control.go).
//   - queue.go is the work queue agents claim from: an in-memory state
//     machine folded from the append-only action event log, which it writes
//     before any change is visible.
//   - dispatch.go delivers the automated actions (email, sms) to the
//     operator's campaign system: a signed, retried webhook (webhook.go) or
//     a CSV file per cycle and channel (csvfiles.go), recording each
//     result in the action log (dispatch_queue.go).
//   - lift.go compares churn of treated and control customers once the
//     horizon has passed, with a 95% confidence interval.
//
// A cycle is the as-of date of the scoring run the actions come from
// (YYYY-MM-DD); cooldowns and contact limits count days between cycles, so
// planning is deterministic whatever the wall clock says.
package retention
