// Package e2e drives the dashboard page in a headless Chromium against a
// real churn serve (in-process, on a seeded, trained and scored ClickHouse
// database): sign in, the overview against GET /v1/summary, the risk list's
// filters, a customer, claiming and completing an action, and the controls a
// viewer key must not see. It writes a screenshot of each view, at laptop
// and wall-display sizes, to build/screenshots.
//
// Chromium is the Debian package `chromium` (scripts/deps.sh installs it);
// without it, or without ClickHouse, the test is skipped locally and fails
// when CI=true.
package e2e
