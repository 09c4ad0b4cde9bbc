// Package liblinear fits L2-regularised logistic regressions with golearn's
// liblinear binding, in a short-lived child process. It is the only importer
// of github.com/sjwhitworth/golearn.
//
// Why a child: golearn hands C a Go-allocated problem that holds Go pointers,
// which the runtime's cgo pointer check rejects, and it never frees the C
// model or the strings it passes to C. Running it in the parent would mean
// turning the check off for the whole service and leaking on every scheduled
// retrain. Instead Fit starts the current executable again (os.Executable)
// with the environment variable ChildEnv set and cgocheck=0 added to GODEBUG
// for that process only, streams the problem to it over stdin in a compact
// binary format (protocol.go), and reads the weights back from its stdout.
// Everything liblinear allocates dies with the child.
//
// Every executable that calls Fit must start with
//
//	if liblinear.IsChild() {
//		os.Exit(liblinear.RunChild())
//	}
//
// in main, or in TestMain for test binaries (the helper-process pattern of
// os/exec's tests). Fit refuses to start a child from a child, so an
// executable that forgets the dispatch fails with an error instead of
// recursing.
//
// The child is killed when Fit's context is cancelled, and it kills itself
// when its stdin closes before it is done (the parent died). Its stderr is
// captured into Fit's error.
package liblinear
