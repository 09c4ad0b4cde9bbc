// Package e2e drives the dashboard page in a headless Chromium against a
// real churn serve (in-process, on a seeded, trained and scored ClickHouse
// database): sign in, the overview against GET /v1/summary, the risk list's
// filters, a customer, claiming and completing an action, and the controls a
// viewer key must not see. It writes a screenshot of each view, at laptop
// and wall-display sizes, to build/screenshots.
//
// The API tests (api_test.go) need no browser: they serve a real ClickHouse
// database and check that finished runs are read and replaced, that reads
// survive a ClickHouse outage (on a private server), and that the whole
// product runs from seed through train and score to an API read.
//
// Chromium is the Debian package `chromium` (scripts/deps.sh installs it);
// without it, or without ClickHouse, the test is skipped locally and fails
// when CI=true.
package e2e
