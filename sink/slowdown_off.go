//go:build !slowsink

package sink

// slowdown does nothing: only a build with -tags slowsink burns CPU in it
// (slowdown_on.go), to measure whether the regression gate catches a
// slower sink.
func slowdown(int) {}
