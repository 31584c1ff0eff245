//go:build race

package bench

// raceOn: the race detector slows the client side of every request
// several-fold, so timing checks run in scripts/test.sh's pass without it.
const raceOn = true
