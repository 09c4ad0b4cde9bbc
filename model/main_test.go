package model

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if err := ReexecWithCgocheckOff(); err != nil {
		fmt.Fprintln(os.Stderr, "re-exec with GODEBUG=cgocheck=0:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
