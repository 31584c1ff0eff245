//go:build !slowsink

package sink

// slowdown is the hook of the regression gate's deliberately slowed build
// (build tag slowsink); normal builds compile it away.
func slowdown(int) {}
