// Package dataset describes the input contract tables as data (columns, types,
// enumerations, keys) and reads an operator's CSV files into validated columns
// ready to insert. The synthetic telecom operator of `churn seed` lives in
// dataset/synth.
package dataset
