// Package synth is the synthetic telecom operator behind `churn seed`: it
// generates the ten input contract tables (customers, plan_changes,
// usage_daily, invoices, payments, support_tickets, churn_events,
// reactivations, topups, contract_terms) for a population that looks like a
// real operator's: postpaid and prepaid lines (Config.PrepaidShare of the
// consumers top up and churn by going silent, with no churn event), one- and
// two-year terms that renew or lapse to month-to-month with more churn
// around their end, usage that fades before a voluntary churn, and win-backs
// (postpaid customers who leave, come back and may leave again).
//
// Churn follows a monthly hazard model. Each customer carries risk factors
// (contract type, a term's end, tenure, price rises, network trouble,
// complaints, financial distress) that show in the data before the customer leaves and at lower
// rates among customers who stay, so point-in-time features can learn them
// without the task being trivial. Revenue is heavy-tailed: business accounts
// with many lines and heavy international or roaming users bring most of it.
//
// Generation is deterministic for a seed: every customer draws from its own
// PCG stream derived from (seed, customer index), so customers are generated
// by parallel workers and still come out identical, in the same order, on
// every run. Output streams in chunks of customers, so memory stays bounded
// however large the population; Load batches the chunks into large columnar
// blocks for an Inserter such as the ClickHouse client.
//
// Effect sizes live in Config.Effects so that tests and later work (drift,
// retention-action effects) can change them without touching the generator.
package synth
