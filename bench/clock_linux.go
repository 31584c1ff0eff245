package bench

import (
	"github.com/tickbench/tickbench/bench/result"
	"golang.org/x/sys/unix"
)

// clockSync asks the kernel whether its clock discipline calls the wall
// clock synchronized, and the error bounds it keeps (µs).
func clockSync() (state string, maxErrorUS, estErrorUS int64) {
	var tx unix.Timex
	s, err := unix.Adjtimex(&tx)
	if err != nil {
		return result.ClockUnknown, 0, 0
	}
	if s == unix.TIME_ERROR || tx.Status&unix.STA_UNSYNC != 0 {
		return result.ClockUnsynchronized, int64(tx.Maxerror), int64(tx.Esterror)
	}
	return result.ClockSynchronized, int64(tx.Maxerror), int64(tx.Esterror)
}
