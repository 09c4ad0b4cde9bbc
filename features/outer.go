package features

import (
	"math"
	"slices"
	"time"

	"github.com/telcoretain/churn"
)

// outer computes, from the joined sides, which customers are active at the
// as-of date, their labels and the features the SQL computes, in the order
// of QueryColumns. Every expression is the one the single-query snapshot
// computed in SQL, in the same float64 operations and the same order, then
// rounded to float32: the sides' sums and counts are exact in float64 (they
// are integers below 2^53, or the server's own float64 results).
//
// Churn follows the customer's billing: a postpaid customer is active at T
// unless its latest churn event before T has no return (reactivations) after
// it and before T, and its label is a churn event in the horizon; a prepaid
// customer is active while its last activity before T is at most
// @inactivity_days old, and its label says that its last activity before an
// inactivity of that many days falls before T + horizon. Prepaid activity is
// any active usage day or a top-up; its day numbers (0: none) come from the u_
// and k_ columns.
func outer(j *joined, params map[string]any) (*churn.Matrix, error) {
	asOf, err := time.Parse(time.DateOnly, params["as_of"].(string))
	if err != nil {
		return nil, churn.Errorf(churn.KindInternal, "compute features", "as_of: %v", err)
	}
	tn := float64(asOf.Unix() / 86400) // the as-of date's day number
	inact := float64(params["inactivity_days"].(int))
	cats := func(name string) []string { return params[name].([]string) }
	nan := math.NaN()

	// customers
	tenure, billing := j.num("c_tenure"), j.str("c_billing")
	segment, region, payment := j.str("c_segment"), j.str("c_region"), j.str("c_payment_method")
	// lifecycle
	kTopups, kLast, kTopups90 := j.num("k_topups"), j.num("k_last"), j.num("k_topups_90")
	kAmount30, kAmount90, kAmountPrev, kAmount365 := j.num("k_amount_30"), j.num("k_amount_90"), j.num("k_amount_prev"), j.num("k_amount_365")
	kLBefore, kLLabel, kLAfter, kLNext := j.num("k_l_before"), j.num("k_l_label"), j.num("k_l_after"), j.num("k_l_next")
	gTerms, gEnd := j.num("g_terms"), j.num("g_end")
	wChurns, wGone, wLabel, wReturns, wLastReturn := j.num("w_churns"), j.num("w_gone"), j.num("w_label"), j.num("w_returns"), j.num("w_last_return")
	// support
	sRated, sLastSat, sComplaints, sComplaintAge := j.num("s_rated"), j.num("s_last_satisfaction"), j.num("s_complaints"), j.num("s_complaint_age")
	// plan
	pPresent, pContract, pFee := j.num("p_present"), j.str("p_contract"), j.num("p_fee")
	pFeeChange, pDaysSince := j.num("p_fee_change"), j.num("p_days_since")
	// billing
	bInvoices, bRevenue365, bRevenue90, bInvoices90 := j.num("b_invoices"), j.num("b_revenue_365"), j.num("b_revenue_90"), j.num("b_invoices_90")
	bAmount180, bInvoices180, bLastAmount := j.num("b_amount_180"), j.num("b_invoices_180"), j.num("b_last_amount")
	bPrevN, bPrevSum, bOutstanding := j.num("b_prev_n"), j.num("b_prev_sum"), j.num("b_outstanding")
	yPayments, yLastPaid := j.num("y_payments"), j.num("y_last_paid")
	// usage_monthly
	uOld, uPrev, u30, uLastAge := j.num("u_active_old"), j.num("u_active_prev"), j.num("u_active_30"), j.num("u_last_age")
	uLLabel, uLAfter, uLNext := j.num("u_l_label"), j.num("u_l_after"), j.num("u_l_next")
	// usage_recent
	v1, v2, v3 := j.num("v_voice_1"), j.num("v_voice_2"), j.num("v_voice_3")
	d1, d2, d3 := j.num("v_data_1"), j.num("v_data_2"), j.num("v_data_3")
	calls30, calls90, dropped30, dropped90 := j.num("v_calls_30"), j.num("v_calls_90"), j.num("v_dropped_30"), j.num("v_dropped_90")
	intl90, roaming90 := j.num("v_intl_90"), j.num("v_roaming_90")
	dvW, dv56, dv14, dvBase := j.num("d_voice_wsum"), j.num("d_voice_56"), j.num("d_voice_14"), j.num("d_voice_base")
	ddW, dd56, dd14, ddBase := j.num("d_data_wsum"), j.num("d_data_56"), j.num("d_data_14"), j.num("d_data_base")

	// ifNaN is if(cond, nan, v).
	ifNaN := func(cond bool, v float64) float64 {
		if cond {
			return nan
		}
		return v
	}
	// category is a categorical feature: the value's index in its list, NaN
	// when absent.
	category := func(list []string, v string) float64 {
		if i := slices.Index(list, v); i >= 0 {
			return float64(i)
		}
		return nan
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	active := func(i int) float64 { return uOld.at(i) + uPrev.at(i) + u30.at(i) }
	voice90 := func(i int) float64 { return v1.at(i) + v2.at(i) + v3.at(i) }
	contracts, segments, regions := cats("contracts"), cats("segments"), cats("regions")
	payments, billings := cats("payment_methods"), cats("billings")

	direct := func(c col) func(int) float64 { return c.at }
	exprs := map[string]func(i int) float64{
		// rfm
		"days_since_last_usage":   func(i int) float64 { return ifNaN(active(i) == 0, uLastAge.at(i)) },
		"active_days_365d":        active,
		"days_since_last_payment": func(i int) float64 { return ifNaN(yPayments.at(i) == 0, tn-yLastPaid.at(i)) },
		"payments_365d":           direct(j.num("y_payments_365")),
		"paid_amount_365d":        direct(j.num("y_paid_365")),
		// usage (volumes are sums of integer millionths)
		"voice_minutes_7d":      func(i int) float64 { return v3.at(i) / 1e6 },
		"voice_minutes_30d":     func(i int) float64 { return (v2.at(i) + v3.at(i)) / 1e6 },
		"voice_minutes_90d":     func(i int) float64 { return voice90(i) / 1e6 },
		"data_mb_7d":            func(i int) float64 { return d3.at(i) / 1e6 },
		"data_mb_30d":           func(i int) float64 { return (d2.at(i) + d3.at(i)) / 1e6 },
		"data_mb_90d":           func(i int) float64 { return (d1.at(i) + d2.at(i) + d3.at(i)) / 1e6 },
		"sms_30d":               direct(j.num("v_sms_30")),
		"calls_30d":             calls30.at,
		"active_days_30d":       u30.at,
		"active_days_90d":       func(i int) float64 { return uPrev.at(i) + u30.at(i) },
		"voice_trend_30d":       func(i int) float64 { return ifNaN(v1.at(i) == 0, (v2.at(i)+v3.at(i))/(v1.at(i)/2)) },
		"data_trend_30d":        func(i int) float64 { return ifNaN(d1.at(i) == 0, (d2.at(i)+d3.at(i))/(d1.at(i)/2)) },
		"active_days_trend_30d": func(i int) float64 { return ifNaN(uPrev.at(i) == 0, u30.at(i)/(uPrev.at(i)/2)) },
		"dropped_calls_30d":     dropped30.at,
		"dropped_call_rate_30d": func(i int) float64 { return ifNaN(calls30.at(i) == 0, dropped30.at(i)/calls30.at(i)) },
		"dropped_call_rate_90d": func(i int) float64 { return ifNaN(calls90.at(i) == 0, dropped90.at(i)/calls90.at(i)) },
		"intl_share_90d":        func(i int) float64 { return ifNaN(voice90(i) == 0, intl90.at(i)/voice90(i)) },
		"roaming_share_90d":     func(i int) float64 { return ifNaN(voice90(i) == 0, roaming90.at(i)/voice90(i)) },
		// billing
		"avg_invoice_6m":      func(i int) float64 { return ifNaN(bInvoices180.at(i) == 0, bAmount180.at(i)/bInvoices180.at(i)) },
		"last_invoice_amount": func(i int) float64 { return ifNaN(bInvoices.at(i) == 0, bLastAmount.at(i)) },
		"bill_shock": func(i int) float64 {
			return ifNaN(bPrevN.at(i) == 0 || bPrevSum.at(i) <= 0, bLastAmount.at(i)/(bPrevSum.at(i)/bPrevN.at(i)))
		},
		// -0 as 0: the float sums of amounts depend on the server threads'
		// order, and a balance of zero may round from either side.
		"outstanding_balance": func(i int) float64 { return positiveZero(bOutstanding.at(i)) },
		"late_payments_12m":   direct(j.num("b_late_12m")),
		"missed_payments_12m": direct(j.num("b_missed_12m")),
		"days_past_due":       direct(j.num("b_days_past_due")),
		// support
		"billing_tickets_30d":       direct(j.num("s_billing_30")),
		"billing_tickets_90d":       direct(j.num("s_billing_90")),
		"network_tickets_30d":       direct(j.num("s_network_30")),
		"network_tickets_90d":       direct(j.num("s_network_90")),
		"device_tickets_30d":        direct(j.num("s_device_30")),
		"device_tickets_90d":        direct(j.num("s_device_90")),
		"service_tickets_30d":       direct(j.num("s_service_30")),
		"service_tickets_90d":       direct(j.num("s_service_90")),
		"complaint_tickets_30d":     direct(j.num("s_complaint_30")),
		"complaint_tickets_90d":     direct(j.num("s_complaint_90")),
		"unresolved_tickets":        direct(j.num("s_unresolved")),
		"last_satisfaction":         func(i int) float64 { return ifNaN(sRated.at(i) == 0, sLastSat.at(i)) },
		"days_since_last_complaint": func(i int) float64 { return ifNaN(sComplaints.at(i) == 0, sComplaintAge.at(i)) },
		// plan
		NameContract:             func(i int) float64 { return category(contracts, pContract.at(i)) },
		NameMonthlyFee:           func(i int) float64 { return ifNaN(pPresent.at(i) == 0, pFee.at(i)) },
		"fee_change_last":        func(i int) float64 { return ifNaN(pPresent.at(i) == 0, pFeeChange.at(i)) },
		"days_since_plan_change": func(i int) float64 { return ifNaN(pPresent.at(i) == 0, pDaysSince.at(i)) },
		"plan_changes_12m":       direct(j.num("p_changes_12m")),
		"tenure_days":            tenure.at,
		// profile
		"segment":        func(i int) float64 { return category(segments, segment.at(i)) },
		NameRegion:       func(i int) float64 { return category(regions, region.at(i)) },
		"payment_method": func(i int) float64 { return category(payments, payment.at(i)) },
		// value
		"revenue_12m": func(i int) float64 { return bRevenue365.at(i) + kAmount365.at(i) },
		NameMonthlyRev: func(i int) float64 {
			if bInvoices90.at(i)+kTopups90.at(i) > 0 {
				months := min(3, max(1, math.Floor(tenure.at(i)/30)))
				return (bRevenue90.at(i) + kAmount90.at(i)) / months
			}
			if pPresent.at(i) == 1 {
				return pFee.at(i)
			}
			return 0
		},
		// lifecycle
		NameBilling:             func(i int) float64 { return category(billings, billing.at(i)) },
		"days_since_last_topup": func(i int) float64 { return ifNaN(kTopups.at(i) == 0, tn-kLast.at(i)) },
		"topups_90d":            kTopups90.at,
		"topup_amount_90d":      kAmount90.at,
		"topup_trend_30d":       func(i int) float64 { return ifNaN(kAmountPrev.at(i) == 0, kAmount30.at(i)/(kAmountPrev.at(i)/2)) },
		"term_days_left":        func(i int) float64 { return ifNaN(gTerms.at(i) == 0 || gEnd.at(i) <= tn, gEnd.at(i)-tn) },
		"days_since_term_end":   func(i int) float64 { return ifNaN(gTerms.at(i) == 0 || gEnd.at(i) > tn, tn-gEnd.at(i)) },
		"out_of_contract":       func(i int) float64 { return ifNaN(gTerms.at(i) == 0, b2f(gEnd.at(i) <= tn)) },
		"contract_renewals":     func(i int) float64 { return max(0, gTerms.at(i)-1) },
		"past_churns":           wChurns.at,
		"winbacks":              wReturns.at,
		"days_since_winback":    func(i int) float64 { return ifNaN(wReturns.at(i) == 0, tn-wLastReturn.at(i)) },
		"voice_slope_8w":        func(i int) float64 { return ifNaN(dv56.at(i) == 0, dvW.at(i)*4/(42*dv56.at(i))) },
		"data_slope_8w":         func(i int) float64 { return ifNaN(dd56.at(i) == 0, ddW.at(i)*4/(42*dd56.at(i))) },
		"usage_level_14d": func(i int) float64 {
			vb, db := dvBase.at(i), ddBase.at(i)
			switch {
			case vb > 0 && db > 0:
				return (dv14.at(i)/vb + dd14.at(i)/db) * 76 / 28
			case vb > 0:
				return dv14.at(i) / vb * 76 / 14
			case db > 0:
				return dd14.at(i) / db * 76 / 14
			}
			return nan
		},
	}
	names := cats("features")
	fns := make([]func(int) float64, len(names))
	for k, name := range names {
		if fns[k] = exprs[name]; fns[k] == nil {
			return nil, churn.Errorf(churn.KindInternal, "compute features", "feature %s has no expression over the snapshot sides", name)
		}
	}
	if j.err != nil {
		return nil, j.err
	}

	// Which customers are active, and their labels, row by row; then the
	// features column by column over the active rows.
	keep := make([]int, 0, len(j.ids))
	m := &churn.Matrix{Features: names, Cols: make([][]float32, len(names)), Labels: []float32{}}
	for i := range j.ids {
		prepaid := billing.at(i) == churn.BillingPrepaid
		signup := tn - tenure.at(i)
		// prepaid activity: the last active day before t within the inactivity
		// days, the last before t + horizon, and the first after it
		lastBefore := kLBefore.at(i)
		if active(i) > 0 && uLastAge.at(i) <= inact {
			lastBefore = max(lastBefore, tn-uLastAge.at(i))
		}
		if prepaid {
			if max(lastBefore, signup) < tn-inact {
				continue // silent for longer than the inactivity days
			}
		} else if wChurns.at(i) > 0 && wLastReturn.at(i) <= wGone.at(i) {
			continue // churned and not back
		}
		label := wLabel.at(i) > 0
		if prepaid {
			lastLabel := max(lastBefore, uLLabel.at(i), kLLabel.at(i))
			next := kLNext.at(i)
			switch {
			case uLAfter.at(i) > 0 && kLAfter.at(i) > 0:
				next = min(uLNext.at(i), kLNext.at(i))
			case uLAfter.at(i) > 0:
				next = uLNext.at(i)
			}
			label = !(uLAfter.at(i)+kLAfter.at(i) > 0 && next-max(lastLabel, signup) <= inact)
		}
		keep = append(keep, i)
		m.IDs = append(m.IDs, j.ids[i])
		m.Labels = append(m.Labels, float32(b2f(label)))
	}
	for k, f := range fns {
		out := make([]float32, len(keep))
		for r, i := range keep {
			out[r] = float32(f(i))
		}
		m.Cols[k] = out
	}
	return m, nil
}

// positiveZero returns v, with -0 as +0.
func positiveZero(v float64) float64 {
	if v == 0 {
		return 0
	}
	return v
}
