package model

import (
	"os"
	"testing"

	"github.com/telcoretain/churn/model/liblinear"
)

// TestMain lets the test binary serve as the liblinear child that training
// starts (the helper-process pattern).
func TestMain(m *testing.M) { os.Exit(liblinear.RunChildOr(m.Run)) }
