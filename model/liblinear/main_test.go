package liblinear

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// helperEnv makes the test binary, started as a child, misbehave in one way
// instead of fitting, so the tests can watch Fit cope.
const helperEnv = "LIBLINEAR_TEST_HELPER"

// TestMain lets the test binary serve as the child (the helper-process
// pattern of os/exec's tests).
func TestMain(m *testing.M) {
	if IsChild() {
		switch os.Getenv(helperEnv) {
		case "hang":
			time.Sleep(time.Minute)
			os.Exit(0)
		case "fail":
			fmt.Fprintln(os.Stderr, "helper: out of luck")
			os.Exit(3)
		case "garbage":
			fmt.Fprint(os.Stdout, "PASS\n")
			os.Exit(0)
		}
	}
	os.Exit(RunChildOr(m.Run))
}
