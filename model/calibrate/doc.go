// Package calibrate turns a model's raw churn scores into probabilities that
// mean what they say: of the customers given 0.2, about one in five churns.
// Retention decisions multiply the probability by a customer's value, so a
// model that ranks well but is over- or under-confident would spend the budget
// on the wrong customers.
//
// Two methods are offered: Platt scaling (a logistic fit on the logit of the
// raw score; two parameters, safe with few churners) and isotonic regression
// (a monotone step fit by pool-adjacent-violators, interpolated between steps;
// flexible but needs many churners). Choose fits both on one split and keeps
// the one with the lower log loss on another. A Calibrator is saved inside a
// model file through Marshal/Unmarshal or the Saved wrapper.
package calibrate
